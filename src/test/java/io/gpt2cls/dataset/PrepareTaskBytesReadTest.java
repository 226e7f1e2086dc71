package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.JSON;
import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.schema.MessageTypeParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.function.TestModels;
import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * A range task reads only the bytes {@link PrepareTask#bytesRead} names, which is all a ranged copy of
 * a remote file holds: run on a copy whose every other byte is garbage, each range task gives the
 * result it gives on the file itself.
 */
class PrepareTaskBytesReadTest {

    @TempDir
    Path work;

    @Test
    void aRangeTaskReadsNothingButTheBytesItNames() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            // lines of many lengths, one longer than a task (a range that holds no line start)
            String text = i == 100 ? "long ".repeat(400) : "row " + i + " " + "word ".repeat(i % 23);
            lines.append(jsonLine(text, i % 3 == 0 ? "spam" : "ham")).append('\n');
        }
        Path jsonl = Files.writeString(work.resolve("a.jsonl"), lines);
        List<ParquetFixtures.Row> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            rows.add(new ParquetFixtures.Row("parquet row " + i + " " + "word ".repeat(i % 19), i % 3 == 0 ? "spam" : "ham"));
        }
        Path parquet = ParquetFixtures.write(work.resolve("b.parquet"), ParquetFixtures.schema("binary"),
                CompressionCodecName.SNAPPY, 1024, rows);

        PrepareSpec spec = new PrepareSpec();
        spec.trainFiles = List.of(DatasetFixtures.named(jsonl), DatasetFixtures.named(parquet));
        spec.tokenizer = TestModels.tokenizer();
        spec.maxLength = 16;
        spec.taskBytes = 1500;
        List<PrepareTask> ranges = PrepareTask.plan(spec).stream().filter(task -> !task.isWhole()).toList();
        assertTrue(ranges.size() > 8, "both files are read in ranges: " + ranges.size());
        try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
            for (PrepareTask task : ranges) {
                assertSameResult(DatasetPreparer.map(spec, task, tokenizer), DatasetPreparer.map(spec, masked(task, spec), tokenizer),
                        task.toString());
            }
        }
    }

    @Test
    void aRangeTaskOfParquetReadsNoChunkOfTheColumnsItDoesNotRead() throws Exception {
        // a wide column between the text and the label, as exports with embeddings or metadata carry
        Random random = new Random(7);
        List<ParquetFixtures.Row> rows = new ArrayList<>();
        for (int i = 0; i < 600; i++) {
            byte[] embedding = new byte[300];
            random.nextBytes(embedding);
            rows.add(new ParquetFixtures.Row("row " + i + " " + "word ".repeat(i % 19), i % 3 == 0 ? "spam" : "ham",
                    Map.of("embedding", HexFormat.of().formatHex(embedding))));
        }
        Path parquet = ParquetFixtures.write(work.resolve("wide.parquet"), MessageTypeParser.parseMessageType("message row {"
                + " optional binary text (STRING); optional binary embedding (STRING); optional binary label (STRING); }"),
                CompressionCodecName.SNAPPY, 64 * 1024, rows);
        List<long[]> embeddingChunks = new ArrayList<>();
        for (BlockMetaData group : ParquetRowReader.footer(InputFile.local(parquet), InputBytes.LOCAL).getBlocks()) {
            ColumnChunkMetaData chunk = group.getColumns().get(1);
            assertEquals("embedding", chunk.getPath().toDotString());
            embeddingChunks.add(new long[] {chunk.getStartingPos(), chunk.getStartingPos() + chunk.getTotalSize()});
        }
        PrepareSpec spec = new PrepareSpec();
        spec.trainFiles = List.of(DatasetFixtures.named(parquet));
        spec.tokenizer = TestModels.tokenizer();
        spec.maxLength = 16;
        spec.taskBytes = 100 * 1024;
        List<PrepareTask> ranges = PrepareTask.plan(spec);
        assertTrue(ranges.size() > 2 && embeddingChunks.size() > ranges.size(), ranges.size() + " ranges of "
                + embeddingChunks.size() + " row groups");

        long rowsRead = 0;
        try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
            for (PrepareTask task : ranges) {
                for (long[] read : task.bytesRead(InputBytes.LOCAL, spec.columnsRead())) {
                    for (long[] embedding : embeddingChunks) {
                        assertTrue(read[1] <= embedding[0] || embedding[1] <= read[0], task + " reads bytes [" + read[0] + ", "
                                + read[1] + ") of the embedding column's chunk [" + embedding[0] + ", " + embedding[1] + ")");
                    }
                }
                PartResult onMasked = DatasetPreparer.map(spec, masked(task, spec), tokenizer);
                assertSameResult(DatasetPreparer.map(spec, task, tokenizer), onMasked, task.toString());
                rowsRead += onMasked.rowsRead();
            }
        }
        assertEquals(rows.size(), rowsRead, "the ranges read every row once");
    }

    @Test
    void aRangeTaskOfParquetWithoutTheLabelColumnNamesTheFileAndTheColumn() throws Exception {
        List<ParquetFixtures.Row> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            rows.add(new ParquetFixtures.Row("row " + i + " " + "word ".repeat(i % 19), null, Map.of("category", "ham")));
        }
        Path parquet = ParquetFixtures.write(work.resolve("unlabelled.parquet"), MessageTypeParser.parseMessageType("message row {"
                + " optional binary text (STRING); optional binary category (STRING); }"), CompressionCodecName.SNAPPY, 1024, rows);
        PrepareSpec spec = new PrepareSpec();
        spec.trainFiles = List.of(DatasetFixtures.named(parquet));
        spec.tokenizer = TestModels.tokenizer();
        spec.taskBytes = 1500;
        PrepareTask range = PrepareTask.plan(spec).get(1);
        try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
            DatasetException error = assertThrows(DatasetException.class, () -> DatasetPreparer.map(spec, masked(range, spec), tokenizer));
            assertEquals("column 'label' not found in unlabelled.parquet; columns are: text, category", error.getMessage());
        }
    }

    /** The task on a copy of its file that holds only the bytes it names, every other byte garbage. */
    private PrepareTask masked(PrepareTask task, PrepareSpec spec) throws Exception {
        Path masked = Files.createTempDirectory(work, "masked-").resolve(task.file().path().getFileName());
        byte[] original = Files.readAllBytes(task.file().path());
        byte[] garbage = new byte[original.length];
        Arrays.fill(garbage, (byte) 'x');
        for (long[] range : task.bytesRead(InputBytes.LOCAL, spec.columnsRead())) {
            System.arraycopy(original, (int) range[0], garbage, (int) range[0], (int) (range[1] - range[0]));
        }
        Files.write(masked, garbage);
        return new PrepareTask(task.input(), task.fileIndex(), new InputFile(masked, task.file().location()), task.from(), task.to());
    }

    private void assertSameResult(PartResult expected, PartResult actual, String task) throws Exception {
        Path expectedDir = Files.createDirectories(work.resolve("expected"));
        Path actualDir = Files.createDirectories(work.resolve("actual"));
        expected.write(expectedDir);
        actual.write(actualDir);
        ObjectNode expectedSummary = (ObjectNode) JSON.readTree(expectedDir.resolve(PartResult.COMMIT).toFile());
        ObjectNode actualSummary = (ObjectNode) JSON.readTree(actualDir.resolve(PartResult.COMMIT).toFile());
        expectedSummary.remove("seconds");
        actualSummary.remove("seconds");
        assertEquals(expectedSummary, actualSummary, task);
        assertArrayEquals(Files.readAllBytes(expectedDir.resolve(PartResult.ROWS)), Files.readAllBytes(actualDir.resolve(PartResult.ROWS)),
                task);
        for (Path dir : List.of(expectedDir, actualDir)) {
            Files.delete(dir.resolve(PartResult.COMMIT));
            Files.delete(dir.resolve(PartResult.ROWS));
        }
    }
}
