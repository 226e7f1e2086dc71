package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;
import static io.gpt2cls.dataset.DatasetFixtures.prepare;
import static io.gpt2cls.dataset.DatasetFixtures.rejected;
import static io.gpt2cls.dataset.DatasetFixtures.write;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPOutputStream;

import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.gpt2cls.function.TestModels;
import io.gpt2cls.dataset.ParquetFixtures.Row;

/** JSON Lines and CSV, gzip-compressed or not, Parquet, and inputs made of several part files. */
class InputFormatsTest {

    static Path tokenizerJson;

    @TempDir
    Path work;

    @BeforeAll
    static void buildTokenizer() throws Exception {
        tokenizerJson = TestModels.tokenizer(); // built once per JVM, shared read-only
    }

    private PrepareSpec spec(Path train, String out) {
        PrepareSpec spec = DatasetFixtures.spec(train, tokenizerJson, work.resolve(out));
        spec.testFraction = 0;
        return spec;
    }

    private static List<Row> reviews(int count) {
        List<Row> rows = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            rows.add(new Row("review number " + i + (i % 2 == 0 ? ": a fine film" : ": a dull film"), (long) (i % 2)));
        }
        return rows;
    }

    private String asJsonLines(List<Row> rows) throws Exception {
        StringBuilder lines = new StringBuilder();
        for (Row row : rows) {
            lines.append(jsonLine(row.text(), row.label())).append('\n');
        }
        return lines.toString();
    }

    private Path gzip(Path plain) throws Exception {
        Path compressed = plain.resolveSibling(plain.getFileName() + ".gz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(compressed))) {
            out.write(Files.readAllBytes(plain));
        }
        return compressed;
    }

    private static Map<String, byte[]> shards(Path dir) throws Exception {
        Map<String, byte[]> files = DatasetFixtures.snapshot(dir);
        files.keySet().removeIf(name -> !name.endsWith(".safetensors"));
        return files;
    }

    private static void assertSameShards(Path expected, Path actual) throws Exception {
        Map<String, byte[]> want = shards(expected);
        Map<String, byte[]> got = shards(actual);
        assertEquals(want.keySet(), got.keySet());
        for (String name : want.keySet()) {
            assertArrayEquals(want.get(name), got.get(name), name);
        }
    }

    @Test
    void gzipCompressedJsonLinesAndCsvGiveTheShardsOfThePlainFiles() throws Exception {
        Path jsonl = write(work, "train.jsonl", asJsonLines(reviews(20)));
        Path csv = write(work, "train.csv", "text,label\n" + String.join("\n",
                reviews(20).stream().map(row -> row.text() + "," + row.label()).toList()) + "\n");
        PrepareSpec plain = spec(jsonl, "plain");
        prepare(plain);
        PrepareSpec gzJsonl = spec(gzip(jsonl), "gz-jsonl");
        PrepareSummary summary = prepare(gzJsonl);
        PrepareSpec gzCsv = spec(gzip(csv), "gz-csv");
        prepare(gzCsv);
        // gzip's magic bytes decide, whatever the name
        Path unnamed = Files.copy(work.resolve("train.jsonl.gz"), work.resolve("unnamed.jsonl"));
        PrepareSpec magic = spec(unnamed, "magic");
        prepare(magic);

        assertSameShards(plain.outputDir, gzJsonl.outputDir);
        assertSameShards(plain.outputDir, gzCsv.outputDir);
        assertSameShards(plain.outputDir, magic.outputDir);
        assertEquals("train.jsonl.gz", summary.sources().get(0).path());
        assertEquals(io.gpt2cls.tokenizer.TextTokenizer.sha256(Files.readAllBytes(work.resolve("train.jsonl.gz"))), summary.sources().get(0).sha256(),
                "the checksum is of the file as stored");
    }

    @Test
    void aTruncatedGzipStopsTheFileSayingHowFarItGot() throws Exception {
        Path full = gzip(write(work, "train.jsonl", asJsonLines(reviews(2000))));
        byte[] bytes = Files.readAllBytes(full);
        Files.write(full, Arrays.copyOf(bytes, bytes.length / 2));
        DatasetException error = assertThrows(DatasetException.class, () -> prepare(spec(full, "out")));
        assertTrue(error.getMessage().matches("train\\.jsonl\\.gz is truncated: the gzip stream ends after [0-9]+ bytes of"
                + " output; re-upload it"), error.getMessage());
        assertFalse(Files.exists(work.resolve("out")));
    }

    @Test
    void aGzNameWithoutGzipContentIsRefused() throws Exception {
        Path file = write(work, "train.jsonl.gz", asJsonLines(reviews(2)));
        DatasetException error = assertThrows(DatasetException.class, () -> prepare(spec(file, "out")));
        assertTrue(error.getMessage().startsWith("train.jsonl.gz is named .gz but is not gzip-compressed"), error.getMessage());
    }

    @Test
    void parquetWithAStringTextAndAnInt64LabelReadsLikeJsonLines() throws Exception {
        List<Row> rows = reviews(40);
        PrepareSpec fromJsonl = spec(write(work, "train.jsonl", asJsonLines(rows)), "from-jsonl");
        prepare(fromJsonl);
        PrepareSpec fromParquet = spec(ParquetFixtures.write(work.resolve("train.parquet"), rows), "from-parquet");
        PrepareSummary summary = prepare(fromParquet);

        assertEquals(40, summary.accepted());
        assertEquals(List.of("0", "1"), summary.labels());
        assertSameShards(fromJsonl.outputDir, fromParquet.outputDir);
    }

    @Test
    void parquetLabelsMayBeInt32OrStringsAndEveryCodecIsRead() throws Exception {
        List<Row> strings = reviews(30).stream().map(row -> new Row(row.text(), (long) row.label() == 0 ? "neg" : "pos")).toList();
        List<Row> ints = reviews(30).stream().map(row -> new Row(row.text(), (int) (long) row.label())).toList();
        for (CompressionCodecName codec : List.of(CompressionCodecName.UNCOMPRESSED, CompressionCodecName.SNAPPY,
                CompressionCodecName.ZSTD, CompressionCodecName.GZIP, CompressionCodecName.LZ4_RAW)) {
            Path stringFile = ParquetFixtures.write(work.resolve("strings-" + codec + ".parquet"),
                    ParquetFixtures.schema("binary"), codec, 1 << 20, strings);
            assertEquals(List.of("neg", "pos"), prepare(spec(stringFile, "strings-" + codec)).labels(), codec.toString());
            Path intFile = ParquetFixtures.write(work.resolve("ints-" + codec + ".parquet"),
                    ParquetFixtures.schema("int32"), codec, 1 << 20, ints);
            assertEquals(30, prepare(spec(intFile, "ints-" + codec)).accepted(), codec.toString());
        }
    }

    @Test
    void parquetRowsAreLocatedByRecordAcrossRowGroups() throws Exception {
        List<Row> rows = new ArrayList<>(reviews(3000));
        rows.set(4, new Row(null, 1L));                  // record 5
        rows.set(2999, new Row("no label", null));       // record 3000, in a later row group
        rows.set(1500, new Row("   ", 0L));              // record 1501
        Path file = ParquetFixtures.write(work.resolve("train.parquet"), ParquetFixtures.schema("int64"),
                CompressionCodecName.SNAPPY, 16 * 1024, rows);

        PrepareSummary summary = prepare(spec(file, "out"));

        List<JsonNode> report = rejected(work.resolve("out"));
        assertEquals(List.of(5L, 1501L, 3000L), report.stream().map(r -> r.path("record").asLong()).toList());
        assertTrue(report.stream().noneMatch(r -> r.has("line")), "Parquet rows have no line");
        assertEquals("train.parquet record 5 (row index 4): text column 'text' is null", summary.firstRejections().get(0).toString());
        assertEquals("text column 'text' holds only whitespace", report.get(1).path("reason").asText());
        assertEquals("label column 'label' is null", report.get(2).path("reason").asText());
        assertEquals(2997, summary.accepted());
    }

    @Test
    void parquetDecimalLabelsAreRejectedRowsAndListColumnsStopTheFile() throws Exception {
        Path decimals = ParquetFixtures.write(work.resolve("decimals.parquet"), ParquetFixtures.schema("double"),
                CompressionCodecName.SNAPPY, 1 << 20, List.of(new Row("a", 0.5), new Row("b", 1.5)));
        DatasetException none = assertThrows(DatasetException.class, () -> prepare(spec(decimals, "out")));
        assertTrue(none.getMessage().contains("label column 'label' is a decimal number (0.5); labels must be strings or integers"),
                none.getMessage());

        Path lists = work.resolve("lists.parquet");
        Files.copy(ParquetFixtures.write(work.resolve("tmp.parquet"),
                org.apache.parquet.schema.MessageTypeParser.parseMessageType(
                        "message row { repeated binary text (STRING); optional int64 label; }"),
                CompressionCodecName.SNAPPY, 1 << 20, List.of(new Row("a", 1L))), lists);
        DatasetException list = assertThrows(DatasetException.class, () -> prepare(spec(lists, "out")));
        assertEquals("column 'text' of lists.parquet is a list or struct; prepare reads plain string or integer columns",
                list.getMessage());
    }

    @Test
    void aTruncatedOrDamagedParquetFileStopsTheJob() throws Exception {
        Path file = ParquetFixtures.write(work.resolve("train.parquet"), reviews(500));
        byte[] bytes = Files.readAllBytes(file);
        Path truncated = work.resolve("truncated.parquet");
        Files.write(truncated, Arrays.copyOf(bytes, bytes.length - 100));
        DatasetException cut = assertThrows(DatasetException.class, () -> prepare(spec(truncated, "out")));
        assertTrue(cut.getMessage().startsWith("truncated.parquet is not a readable Parquet file (the file is not a Parquet"
                + " file"), cut.getMessage());

        byte[] damaged = bytes.clone();
        for (int i = 100; i < 400; i++) {
            damaged[i] ^= 0x5a; // inside the first data page
        }
        Path corrupt = work.resolve("corrupt.parquet");
        Files.write(corrupt, damaged);
        DatasetException bad = assertThrows(DatasetException.class, () -> prepare(spec(corrupt, "out")));
        assertTrue(bad.getMessage().startsWith("corrupt.parquet is corrupt: record 1 and after cannot be read ("), bad.getMessage());
        assertFalse(Files.exists(work.resolve("out")));
    }

    @Test
    void aParquetCodecThatCannotBeReadIsNamed() throws Exception {
        Path file = ParquetFixtures.write(work.resolve("brotli.parquet"), ParquetFixtures.schema("int64"),
                CompressionCodecName.BROTLI, 1 << 20, reviews(4));
        DatasetException error = assertThrows(DatasetException.class, () -> prepare(spec(file, "out")));
        assertEquals("brotli.parquet is compressed with BROTLI, which prepare does not read; write it with snappy (the usual"
                + " default), zstd, gzip or no compression", error.getMessage());
    }

    @Test
    void partFilesAreOneInputAndEachIsASourceUnderItsLocation() throws Exception {
        List<Row> rows = reviews(30);
        Path parts = Files.createDirectories(work.resolve("parts"));
        ParquetFixtures.write(parts.resolve("train-00000-of-00002.parquet"), rows.subList(0, 20));
        ParquetFixtures.write(parts.resolve("train-00001-of-00002.parquet"), rows.subList(20, 30));
        PrepareSpec fromParts = spec(work.resolve("unused"), "from-parts");
        fromParts.trainFiles = List.of(
                new InputFile(parts.resolve("train-00000-of-00002.parquet"), "s3://bucket/imdb/train-00000-of-00002.parquet"),
                new InputFile(parts.resolve("train-00001-of-00002.parquet"), "s3://bucket/imdb/train-00001-of-00002.parquet"));
        fromParts.trainLocation = "s3://bucket/imdb/train-*.parquet";
        fromParts.tokenizerLocation = "s3://bucket/models/gpt2/tokenizer.json";
        PrepareSummary summary = prepare(fromParts);
        PrepareSpec fromOne = spec(write(work, "train.jsonl", asJsonLines(rows)), "from-one");
        prepare(fromOne);

        assertSameShards(fromOne.outputDir, fromParts.outputDir);
        assertEquals(List.of("s3://bucket/imdb/train-00000-of-00002.parquet", "s3://bucket/imdb/train-00001-of-00002.parquet"),
                summary.sources().stream().map(Manifest.Source::path).toList());
        assertEquals(List.of(20L, 10L), summary.sources().stream().map(Manifest.Source::rowsRead).toList());
        Manifest manifest = TokenizedDataset.open(fromParts.outputDir).manifest();
        assertEquals(Map.of("train", "s3://bucket/imdb/train-*.parquet"), manifest.inputs());
        assertEquals("s3://bucket/models/gpt2/tokenizer.json", manifest.tokenizer().file());
        String json = Files.readString(fromParts.outputDir.resolve(Manifest.FILE), StandardCharsets.UTF_8);
        assertFalse(json.contains(work.toString()), "the manifest names no local path: " + json);
    }

    @Test
    void directoriesAndPatternsSelectTheirDatasetFiles() {
        List<String> listed = List.of("train-00001.parquet", "_SUCCESS", "train-00000.parquet", ".part.crc", "test-00000.parquet",
                "notes.txt", "extra.jsonl.gz");
        assertEquals(List.of("train-00000.parquet", "train-00001.parquet"),
                InputFiles.select("s3://bucket/imdb/train-*.parquet", listed));
        assertEquals(List.of("extra.jsonl.gz", "test-00000.parquet", "train-00000.parquet", "train-00001.parquet"),
                InputFiles.select("s3://bucket/imdb", listed));
        assertTrue(InputFiles.isPattern("data/part-?.csv"));
        assertFalse(InputFiles.isPattern("s3://bucket/imdb/train.parquet"));
        assertEquals("s3://bucket/imdb", InputFiles.directoryOf("s3://bucket/imdb/train-*.parquet"));
        assertEquals(".", InputFiles.directoryOf("part-*.jsonl"));
        DatasetException none = assertThrows(DatasetException.class,
                () -> InputFiles.select("s3://bucket/imdb/valid-*.parquet", listed));
        assertEquals("no file in s3://bucket/imdb matches valid-*.parquet; it holds: .part.crc, _SUCCESS, extra.jsonl.gz,"
                + " notes.txt, test-00000.parquet, train-00000.parquet, train-00001.parquet", none.getMessage());
    }
}
