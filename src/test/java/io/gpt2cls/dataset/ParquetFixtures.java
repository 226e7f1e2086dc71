package io.gpt2cls.dataset;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.MessageType;

import io.airlift.compress.Compressor;
import io.airlift.compress.lz4.Lz4Compressor;
import io.airlift.compress.snappy.SnappyCompressor;
import io.airlift.compress.zstd.ZstdCompressor;

/**
 * Parquet files written by the test itself, the way pyarrow writes Hugging Face datasets (a string
 * text column, an integer label), with any codec, row group size and dictionary setting.
 */
public final class ParquetFixtures {

    /** One row: {@code null} leaves a column without a value; {@code others}: values of further string columns, by name. */
    public record Row(String text, Object label, Map<String, String> others) {
        public Row(String text, Object label) {
            this(text, label, Map.of());
        }
    }

    private ParquetFixtures() {}

    public static MessageType schema(String labelType) {
        return org.apache.parquet.schema.MessageTypeParser.parseMessageType(
                "message row { optional binary text (STRING); optional " + labelType + " label; }");
    }

    public static Path write(Path file, MessageType schema, CompressionCodecName codec, int rowGroupBytes, List<Row> rows)
            throws IOException {
        Files.deleteIfExists(file);
        SimpleGroupFactory groups = new SimpleGroupFactory(schema);
        try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new LocalOutputFile(file))
                .withType(schema)
                .withConf(new PlainParquetConfiguration())
                .withCodecFactory(new TestCodecs())
                .withCompressionCodec(codec)
                .withRowGroupSize(rowGroupBytes)
                .withPageSize(Math.min(rowGroupBytes, 1 << 20))
                .build()) {
            for (Row row : rows) {
                Group group = groups.newGroup();
                if (row.text() != null) {
                    group.append("text", row.text());
                }
                if (row.label() instanceof String label) {
                    group.append("label", label);
                } else if (row.label() instanceof Integer label) {
                    group.append("label", label);
                } else if (row.label() instanceof Long label) {
                    group.append("label", label);
                } else if (row.label() instanceof Double label) {
                    group.append("label", label);
                }
                row.others().forEach(group::append);
                writer.write(group);
            }
        }
        return file;
    }

    static Path write(Path file, List<Row> rows) throws IOException {
        return write(file, schema("int64"), CompressionCodecName.SNAPPY, 128 * 1024 * 1024, rows);
    }

    /** Compressors for the writer (the product only decompresses); BROTLI is stored uncompressed under its name. */
    private static final class TestCodecs implements CompressionCodecFactory {
        @Override
        public BytesInputCompressor getCompressor(CompressionCodecName codec) {
            return new BytesInputCompressor() {
                @Override
                public BytesInput compress(BytesInput bytes) throws IOException {
                    byte[] in = bytes.toByteArray();
                    Compressor compressor = switch (codec) {
                        case SNAPPY -> new SnappyCompressor();
                        case ZSTD -> new ZstdCompressor();
                        case LZ4_RAW -> new Lz4Compressor();
                        default -> null;
                    };
                    if (compressor != null) {
                        byte[] out = new byte[compressor.maxCompressedLength(in.length)];
                        return BytesInput.from(out, 0, compressor.compress(in, 0, in.length, out, 0, out.length));
                    }
                    if (codec == CompressionCodecName.GZIP) {
                        ByteArrayOutputStream out = new ByteArrayOutputStream();
                        try (OutputStream gzip = new GZIPOutputStream(out)) {
                            gzip.write(in);
                        }
                        return BytesInput.from(out.toByteArray());
                    }
                    return bytes;
                }

                @Override
                public CompressionCodecName getCodecName() {
                    return codec;
                }

                @Override
                public void release() {
                }
            };
        }

        @Override
        public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
            throw new UnsupportedOperationException("fixtures are only written");
        }

        @Override
        public void release() {
        }
    }
}
