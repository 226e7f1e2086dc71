package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalInputFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.dataset.ParquetFixtures.Row;

/**
 * What a crafted Parquet file may ask the reader to allocate is bounded before anything is decoded:
 * a page's declared size, a row group's column chunks, a value's length. Each gives a rejected row or a
 * clear error for the whole file, never an OutOfMemoryError.
 */
class ParquetBoundsTest {

    @TempDir
    Path work;

    private static List<Row> rows(int count, int textChars) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            rows.add(new Row(i + " " + "x".repeat(textChars), (long) (i % 2)));
        }
        return rows;
    }

    private SourceRow firstRow(Path file, long maxRowGroupBytes) throws Exception {
        try (ParquetRowReader reader = new ParquetRowReader(InputFile.local(file), List.of("text", "label"), maxRowGroupBytes)) {
            return reader.next();
        }
    }

    @Test
    void aPageWhoseHeaderAsksForMoreThanTheLimitStopsTheFileBeforeDecompressing() throws Exception {
        Path file = ParquetFixtures.write(work.resolve("train.parquet"), ParquetFixtures.schema("int64"),
                CompressionCodecName.SNAPPY, 64 << 20, rows(1, 3 << 20));
        long pageStart;
        try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file),
                ParquetReadOptions.builder(new PlainParquetConfiguration()).build())) {
            pageStart = reader.getFooter().getBlocks().get(0).getColumns().get(0).getStartingPos();
        }
        byte[] bytes = Files.readAllBytes(file);
        int at = (int) pageStart;
        // Thrift compact PageHeader: field 1 (type, i32) then field 2 (uncompressed_page_size, zigzag varint)
        assertEquals(0x15, bytes[at] & 0xff);
        at += 2;
        assertEquals(0x15, bytes[at] & 0xff);
        at++;
        int varintBytes = 0;
        while ((bytes[at + varintBytes] & 0x80) != 0) {
            varintBytes++;
        }
        assertEquals(3, varintBytes, "a page of 3 MB has a 4-byte size");
        long claimed = 120_000_000L; // zigzag 240M still fits 4 varint bytes
        long zigzag = claimed << 1;
        for (int i = 0; i < 4; i++) {
            bytes[at + i] = (byte) ((zigzag >>> (7 * i)) & 0x7f | (i < 3 ? 0x80 : 0));
        }
        Path crafted = Files.write(work.resolve("crafted.parquet"), bytes);

        DatasetException error = assertThrows(DatasetException.class, () -> firstRow(crafted, ParquetRowReader.MAX_ROW_GROUP_BYTES));
        assertTrue(error.getMessage().startsWith(crafted + " is corrupt: record 1 and after cannot be read ("), error.getMessage());
        assertTrue(error.getMessage().contains("a page's header says it decompresses to 120000000 bytes; the limit is "
                + ParquetCodecs.MAX_PAGE_BYTES), error.getMessage());
    }

    @Test
    void aRowGroupLargerThanTheLimitIsRefusedFromTheFooter() throws Exception {
        Path file = ParquetFixtures.write(work.resolve("train.parquet"), rows(200, 1000));
        DatasetException error = assertThrows(DatasetException.class, () -> firstRow(file, 10_000));
        assertTrue(error.getMessage().startsWith(file + ": row group 0 holds "), error.getMessage());
        assertTrue(error.getMessage().contains("bytes of the columns read, more than the 10000 prepare reads at once; write the"
                + " file with smaller row groups"), error.getMessage());
    }

    @Test
    void aValueLongerThanATextMayBeIsARejectedRowNotADecodedString() throws Exception {
        Path file = ParquetFixtures.write(work.resolve("train.parquet"), ParquetFixtures.schema("int64"),
                CompressionCodecName.SNAPPY, 64 << 20, rows(1, ParquetRowReader.MAX_VALUE_BYTES + 10));
        SourceRow row = firstRow(file, ParquetRowReader.MAX_ROW_GROUP_BYTES);
        assertEquals("column 'text' holds " + (ParquetRowReader.MAX_VALUE_BYTES + 12) + " bytes, more than the "
                + ParquetRowReader.MAX_VALUE_BYTES + " a text may have", row.unreadable());
    }
}
