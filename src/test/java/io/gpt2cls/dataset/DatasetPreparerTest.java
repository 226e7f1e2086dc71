package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;
import static io.gpt2cls.dataset.DatasetFixtures.prepare;
import static io.gpt2cls.dataset.DatasetFixtures.rejected;
import static io.gpt2cls.dataset.DatasetFixtures.snapshot;
import static io.gpt2cls.dataset.DatasetFixtures.spec;
import static io.gpt2cls.dataset.DatasetFixtures.write;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.gpt2cls.function.TestModels;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TruncationSide;

class DatasetPreparerTest {

    static Path tokenizerJson;
    static TextTokenizer tokenizer;

    @TempDir
    Path work;

    @BeforeAll
    static void buildTokenizer() throws Exception {
        tokenizerJson = TestModels.tokenizer(); // built once per JVM, shared read-only
        tokenizer = TextTokenizer.load(tokenizerJson);
    }

    @AfterAll
    static void closeTokenizer() {
        tokenizer.close();
    }

    /** Most tests here are about rows, not the split: no test split unless a test asks for one. */
    private PrepareSpec spec(Path trainFile) {
        PrepareSpec spec = DatasetFixtures.spec(trainFile, tokenizerJson, work.resolve("out"));
        spec.testFraction = 0;
        return spec;
    }

    private static Map<String, byte[]> shardsOf(Path outputDir) throws Exception {
        Map<String, byte[]> shards = snapshot(outputDir);
        shards.keySet().removeIf(name -> !name.endsWith(".safetensors"));
        return shards;
    }

    @Test
    void jsonLinesAndCsvWithAQuotedMultiLineFieldGiveIdenticalShards() throws Exception {
        String multiLine = "first line, with a comma\nsecond \"quoted\" line";
        Path jsonl = write(work, "train.jsonl", String.join("\n",
                jsonLine("Hello, world!", "pos"), jsonLine(multiLine, "neg"),
                jsonLine("plain text", "pos"), jsonLine("another one", "neg")) + "\n");
        Path csv = write(work, "train.csv", "text,label\r\n"
                + "\"Hello, world!\",pos\r\n"
                + "\"first line, with a comma\nsecond \"\"quoted\"\" line\",neg\r\n"
                + "plain text,pos\r\n"
                + "another one,neg\r\n");

        PrepareSpec fromJsonl = spec(jsonl);
        fromJsonl.outputDir = work.resolve("from-jsonl");
        fromJsonl.testFraction = 0.5;
        PrepareSpec fromCsv = spec(csv);
        fromCsv.outputDir = work.resolve("from-csv");
        fromCsv.testFraction = 0.5;
        PrepareSummary jsonlSummary = prepare(fromJsonl);
        PrepareSummary csvSummary = prepare(fromCsv);

        assertEquals(4, csvSummary.accepted());
        assertEquals(0, csvSummary.rejected());
        assertEquals(Set.of("train-00000.safetensors", "test-00000.safetensors"), shardsOf(fromCsv.outputDir).keySet());
        Map<String, byte[]> jsonlShards = shardsOf(fromJsonl.outputDir);
        Map<String, byte[]> csvShards = shardsOf(fromCsv.outputDir);
        assertEquals(jsonlShards.keySet(), csvShards.keySet());
        for (String name : jsonlShards.keySet()) {
            assertArrayEquals(jsonlShards.get(name), csvShards.get(name), name);
        }
        assertEquals(jsonlSummary.splits(), csvSummary.splits());
        TokenizedDataset dataset = TokenizedDataset.open(fromCsv.outputDir);
        List<String> texts = new ArrayList<>();
        for (String split : List.of(Manifest.TRAIN, Manifest.TEST)) {
            for (int row = 0; row < dataset.split(split).size(); row++) {
                texts.add(tokenizer.decode(dataset.split(split).tokens(row)));
            }
        }
        assertTrue(texts.contains(multiLine), "the multi-line field is one row: " + texts);
    }

    @Test
    void integerLabelsKeepTheirNumericIds() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int label = 11; label >= 0; label--) {
            rows.append(jsonLine("first text for class " + label, label)).append('\n');
            // the same label as a string is the same class
            rows.append(jsonLine("second text for class " + label, Integer.toString(label))).append('\n');
        }
        PrepareSpec spec = spec(write(work, "train.jsonl", rows.toString()));

        PrepareSummary summary = prepare(spec);

        List<String> expected = new ArrayList<>();
        for (int label = 0; label <= 11; label++) {
            expected.add(Integer.toString(label));
        }
        assertEquals(expected, summary.labels());
        TokenizedDataset dataset = TokenizedDataset.open(spec.outputDir);
        assertEquals(10, dataset.manifest().label2id().get("10"));
        assertEquals(2, dataset.manifest().label2id().get("2"));
        TokenizedDataset.Split train = dataset.split(Manifest.TRAIN);
        assertEquals(24, train.size());
        for (int row = 0; row < train.size(); row++) {
            String text = tokenizer.decode(train.tokens(row));
            assertTrue(text.endsWith("class " + train.label(row)), text + " has label id " + train.label(row));
        }
    }

    @Test
    void everyBadJsonLinesRowIsReportedWithItsLineAndReason() throws Exception {
        String tooLong = "x".repeat(RowValidator.MAX_TEXT_CHARS + 1);
        List<String> lines = List.of(
                jsonLine("good one", "pos"),                       // 1
                jsonLine("good two", "neg"),                       // 2
                "   ",                                             // 3: blank, not a row
                "{not json",                                       // 4
                "[1, 2]",                                          // 5
                "{\"label\": \"pos\"}",                            // 6
                "{\"text\": null, \"label\": \"pos\"}",            // 7
                "{\"text\": 5, \"label\": \"pos\"}",               // 8
                "{\"text\": \" \\t \", \"label\": \"pos\"}",       // 9
                "{\"text\": \"\", \"label\": \"pos\"}",            // 10
                "{\"text\": \"no label\"}",                        // 11
                "{\"text\": \"null label\", \"label\": null}",     // 12
                "{\"text\": \"decimal label\", \"label\": 1.5}",   // 13
                "{\"text\": \"object label\", \"label\": {\"a\": 1}}", // 14
                "{\"text\": \"boolean label\", \"label\": true}",  // 15
                jsonLine(tooLong, "pos"),                          // 16
                jsonLine("good three", "pos"),                     // 17
                jsonLine("good four", "neg"),                      // 18
                jsonLine("one", "pos") + " " + jsonLine("two", "neg"), // 19
                "{\"text\": \"a\", \"text\": \"b\", \"label\": \"pos\"}"); // 20
        PrepareSpec spec = spec(write(work, "train.jsonl", String.join("\n", lines)));

        PrepareSummary summary = prepare(spec);

        Map<Long, String> expected = new LinkedHashMap<>();
        expected.put(4L, "invalid JSON at column");
        expected.put(5L, "not a JSON object but an array");
        expected.put(6L, "text column 'text' is missing");
        expected.put(7L, "text column 'text' is null");
        expected.put(8L, "text column 'text' is an integer (5), not a string");
        expected.put(9L, "text column 'text' holds only whitespace");
        expected.put(10L, "text column 'text' is empty");
        expected.put(11L, "label column 'label' is missing");
        expected.put(12L, "label column 'label' is null");
        expected.put(13L, "label column 'label' is a decimal number (1.5); labels must be strings or integers");
        expected.put(14L, "label column 'label' is an object");
        expected.put(15L, "label column 'label' is a boolean (true)");
        expected.put(16L, "a string is longer than 1000000 characters, the limit for a text (at column ");
        expected.put(19L, "more than one JSON value on the line; the second starts at column 30");
        expected.put(20L, "invalid JSON at column 21: Duplicate field 'text'");
        List<JsonNode> report = rejected(spec.outputDir);
        assertEquals(expected.size(), report.size());
        int i = 0;
        for (Map.Entry<Long, String> entry : expected.entrySet()) {
            JsonNode rejection = report.get(i);
            assertEquals("train.jsonl", rejection.path("file").asText());
            assertEquals(entry.getKey(), rejection.path("line").asLong(), rejection.toString());
            assertTrue(rejection.path("reason").asText().startsWith(entry.getValue()), rejection.toString());
            assertFalse(rejection.has("record"), "JSON Lines rows have no record number");
            assertEquals(rejection.path("reason").asText(), summary.firstRejections().get(i).reason());
            i++;
        }
        assertEquals(" \t ", report.get(5).path("text_preview").asText());
        assertFalse(report.get(0).has("text_preview"));
        assertEquals(19, summary.rowsRead());
        assertEquals(4, summary.accepted());
        assertEquals(15, summary.rejected());
        assertEquals(summary.rowsRead(), summary.accepted() + summary.rejected());
    }

    @Test
    void badCsvRecordsAreReportedWithRecordNumberAndStartLine() throws Exception {
        Path csv = write(work, "train.csv", "text,label\n"
                + "\"multi\nline\",pos\n"   // record 1, lines 2-3
                + "\n"                      // line 4: blank, not a record
                + "ok,neg\n"                // record 2, line 5
                + ",pos\n"                  // record 3, line 6: empty text
                + "only one field\n"        // record 4, line 7
                + "\"x\",\n"                // record 5, line 8: empty label
                + "\"a, b\",neg\n"          // record 6, line 9
                + "\"two\nlines\",maybe\n"  // record 7, lines 10-11: label not listed
                + "last,pos");              // record 8, line 12, no final line break
        PrepareSpec spec = spec(csv);
        spec.labels = List.of("pos", "neg");

        PrepareSummary summary = prepare(spec);

        List<JsonNode> report = rejected(spec.outputDir);
        assertEquals(List.of("3:6", "4:7", "5:8", "7:10"), report.stream()
                .map(r -> r.path("record").asLong() + ":" + r.path("line").asLong()).toList());
        assertEquals("text column 'text' is empty", report.get(0).path("reason").asText());
        assertTrue(report.get(1).path("reason").asText().startsWith("record has 1 field(s) but the header has 2"));
        assertEquals("label column 'label' is empty", report.get(2).path("reason").asText());
        assertEquals("label 'maybe' is not in the labels list [pos, neg]", report.get(3).path("reason").asText());
        assertEquals("two\nlines", report.get(3).path("text_preview").asText());
        assertEquals("train.csv record 7 (line 10): label 'maybe' is not in the labels list [pos, neg]",
                summary.firstRejections().get(3).toString());
        assertEquals(List.of("pos", "neg"), summary.labels(), "the explicit order, not alphabetical");
        assertEquals(8, summary.rowsRead());
        assertEquals(4, summary.accepted());
        assertEquals(4, summary.rejected());
    }

    @Test
    void missingColumnErrorListsTheColumnsThatExist() throws Exception {
        Path csv = write(work, "train.csv", "body,category\nhello,pos\nbye,neg\n");
        DatasetException csvError = assertThrows(DatasetException.class, () -> prepare(spec(csv)));
        assertEquals("column 'text' not found in train.csv; columns are: body, category", csvError.getMessage());

        Path jsonl = write(work, "train.jsonl", "{\"body\": \"hello\", \"label\": \"pos\"}\n"
                + "{\"body\": \"bye\", \"label\": \"neg\", \"extra\": 1}\n");
        DatasetException jsonError = assertThrows(DatasetException.class, () -> prepare(spec(jsonl)));
        assertEquals("column 'text' not found in train.jsonl; columns are: body, label, extra", jsonError.getMessage());

        PrepareSpec otherLabel = spec(jsonl);
        otherLabel.textColumn = "body";
        otherLabel.labelColumn = "category";
        DatasetException labelError = assertThrows(DatasetException.class, () -> prepare(otherLabel));
        assertEquals("column 'category' not found in train.jsonl; columns are: body, label, extra", labelError.getMessage());
    }

    @Test
    void aColumnPresentInSomeJsonRowsIsAPerRowRejection() throws Exception {
        Path jsonl = write(work, "train.jsonl", jsonLine("a", "pos") + "\n" + jsonLine("b", "neg") + "\n"
                + "{\"body\": \"c\", \"label\": \"pos\"}\n");
        PrepareSummary summary = prepare(spec(jsonl));
        assertEquals(1, summary.rejected());
        assertEquals(3, summary.firstRejections().get(0).location().line());
    }

    private Path classFile(int... rowsPerClass) throws Exception {
        StringBuilder rows = new StringBuilder();
        int max = Arrays.stream(rowsPerClass).max().orElseThrow();
        // interleaved, so file order alone would not give a stratified split
        for (int i = 0; i < max; i++) {
            for (int c = 0; c < rowsPerClass.length; c++) {
                if (i < rowsPerClass[c]) {
                    rows.append(jsonLine("row " + i + " of class " + (char) ('a' + c), String.valueOf((char) ('a' + c)))).append('\n');
                }
            }
        }
        return write(work, "train.jsonl", rows.toString());
    }

    private static List<String> decodedRows(TokenizedDataset.Split split) {
        List<String> rows = new ArrayList<>();
        for (int row = 0; row < split.size(); row++) {
            rows.add(tokenizer.decode(split.tokens(row)));
        }
        return rows;
    }

    @Test
    void stratifiedSplitKeepsClassProportionsAndIsDeterministicForASeed() throws Exception {
        Path train = classFile(40, 20, 10, 1);
        PrepareSpec first = spec(train);
        first.testFraction = 0.2;
        first.outputDir = work.resolve("first");
        PrepareSpec again = spec(train);
        again.testFraction = 0.2;
        again.outputDir = work.resolve("again");
        PrepareSpec otherSeed = spec(train);
        otherSeed.testFraction = 0.2;
        otherSeed.seed = 7;
        otherSeed.outputDir = work.resolve("other-seed");

        PrepareSummary summary = prepare(first);
        prepare(again);
        prepare(otherSeed);

        assertEquals(Map.of("a", 8, "b", 4, "c", 2, "d", 0), summary.split(Manifest.TEST).perClass());
        assertEquals(Map.of("a", 32, "b", 16, "c", 8, "d", 1), summary.split(Manifest.TRAIN).perClass());
        Map<String, byte[]> firstFiles = snapshot(first.outputDir);
        Map<String, byte[]> againFiles = snapshot(again.outputDir);
        assertEquals(firstFiles.keySet(), againFiles.keySet());
        for (String name : firstFiles.keySet()) {
            assertArrayEquals(firstFiles.get(name), againFiles.get(name), name + " differs for the same seed");
        }
        List<String> firstTest = decodedRows(TokenizedDataset.open(first.outputDir).split(Manifest.TEST));
        List<String> otherTest = decodedRows(TokenizedDataset.open(otherSeed.outputDir).split(Manifest.TEST));
        assertEquals(14, otherTest.size());
        assertNotEquals(firstTest, otherTest, "another seed picks other test rows");
        List<String> firstTrain = decodedRows(TokenizedDataset.open(first.outputDir).split(Manifest.TRAIN));
        assertTrue(firstTrain.stream().noneMatch(firstTest::contains), "a row is in one split only");
        assertEquals(71, firstTrain.size() + firstTest.size());
    }

    @Test
    void aTestFileIsTheTestSplitAndRejectsLabelsUnseenInTraining() throws Exception {
        Path train = write(work, "train.jsonl", jsonLine("good movie", "pos") + "\n" + jsonLine("bad movie", "neg") + "\n"
                + jsonLine("great film", "pos") + "\n");
        Path test = write(work, "test.csv", "text,label\nfine film,pos\nawful film,neg\nso-so film,neutral\n");
        PrepareSpec spec = spec(train);
        spec.testFiles = List.of(DatasetFixtures.named(test));

        PrepareSummary summary = prepare(spec);

        assertEquals(3, summary.split(Manifest.TRAIN).rows());
        assertEquals(2, summary.split(Manifest.TEST).rows());
        assertEquals(1, summary.rejected());
        Rejection rejection = summary.firstRejections().get(0);
        assertEquals("test.csv record 3 (line 4): label 'neutral' does not occur in the training input train.jsonl",
                rejection.toString());
        Manifest manifest = TokenizedDataset.open(spec.outputDir).manifest();
        assertEquals(Manifest.SplitMethod.FILES, manifest.split().strategy());
        assertNull(manifest.split().testFraction());
        assertEquals(List.of(3L, 3L), manifest.sources().stream().map(Manifest.Source::rowsRead).toList());
        assertEquals(List.of(0L, 1L), manifest.sources().stream().map(Manifest.Source::rejected).toList());
        assertEquals(List.of("fine film", "awful film"),
                decodedRows(TokenizedDataset.open(spec.outputDir).split(Manifest.TEST)));
    }

    @Test
    void textsLongerThanMaxLengthAreCutAndCounted() throws Exception {
        String exactlyFive = "one two three four five";
        String longer = "one two three four five six seven";
        assertEquals(5, tokenizer.encode(exactlyFive).length);
        assertEquals(7, tokenizer.encode(longer).length);
        PrepareSpec spec = spec(write(work, "train.jsonl", jsonLine(exactlyFive, "a") + "\n" + jsonLine(longer, "b") + "\n"
                + jsonLine("short", "a") + "\n"));
        spec.maxLength = 5;

        PrepareSummary summary = prepare(spec);

        Manifest.SplitStats train = summary.split(Manifest.TRAIN);
        assertEquals(1, train.truncated(), "a text of exactly maxLength tokens is not truncated");
        assertEquals(5, train.tokens().max());
        assertEquals(11, train.tokens().total());
        TokenizedDataset.Split rows = TokenizedDataset.open(spec.outputDir).split(Manifest.TRAIN);
        assertArrayEquals(Arrays.copyOf(tokenizer.encode(longer), 5), rows.tokens(1));
        assertEquals(5, rows.length(1));
        assertEquals("right", TokenizedDataset.open(spec.outputDir).manifest().truncationSide());

        spec.truncationSide = "left"; // keep the end instead
        prepare(spec);
        int[] all = tokenizer.encode(longer);
        assertArrayEquals(Arrays.copyOfRange(all, 2, 7), TokenizedDataset.open(spec.outputDir).split(Manifest.TRAIN).tokens(1));
        assertEquals("left", TokenizedDataset.open(spec.outputDir).manifest().truncationSide());
    }

    @Test
    void aFailedPrepareLeavesThePreviousOutputByteForByteIntact() throws Exception {
        PrepareSpec good = spec(write(work, "good.jsonl", jsonLine("a text", "pos") + "\n" + jsonLine("b text", "neg") + "\n"));
        prepare(good);
        Map<String, byte[]> before = snapshot(good.outputDir);

        PrepareSpec allBad = spec(write(work, "bad.jsonl", "{\"text\": \"\", \"label\": \"pos\"}\n{\"text\": 1, \"label\": \"neg\"}\n"));
        DatasetException noRows = assertThrows(DatasetException.class, () -> prepare(allBad));
        assertTrue(noRows.getMessage().startsWith("no row of bad.jsonl was accepted (2 read); first rejections: bad.jsonl line 1:"),
                noRows.getMessage());
        PrepareSpec missingColumn = spec(write(work, "other.csv", "body,label\nx,pos\n"));
        assertThrows(DatasetException.class, () -> prepare(missingColumn));
        PrepareSpec oneLabel = spec(write(work, "one.jsonl", jsonLine("a", "pos") + "\n" + jsonLine("b", "pos") + "\n"));
        DatasetException single = assertThrows(DatasetException.class, () -> prepare(oneLabel));
        assertEquals("one.jsonl has only the label 'pos' among its 2 accepted rows; a classifier needs at least 2 labels",
                single.getMessage());

        Map<String, byte[]> after = snapshot(good.outputDir);
        assertEquals(before.keySet(), after.keySet());
        for (String name : before.keySet()) {
            assertArrayEquals(before.get(name), after.get(name), name + " changed");
        }
        assertEquals(List.of("bad.jsonl", "good.jsonl", "one.jsonl", "other.csv"), DatasetFixtures.siblings(good.outputDir),
                "no staging directory is left behind");
    }

    @Test
    void aSuccessfulPrepareReplacesThePreviousOutputWhole() throws Exception {
        PrepareSpec spec = spec(write(work, "train.jsonl", jsonLine("a text", "pos") + "\n" + jsonLine("b text", "neg") + "\n"));
        spec.maxLength = 2;
        spec.maxShardBytes = Shards.bytesFor(1, 2); // one row of two tokens per shard
        prepare(spec);
        assertTrue(Files.exists(spec.outputDir.resolve("train-00001.safetensors")));
        spec.maxShardBytes = PrepareSpec.DEFAULT_MAX_SHARD_BYTES;
        prepare(spec);
        assertFalse(Files.exists(spec.outputDir.resolve("train-00001.safetensors")), "old shards do not linger");
        assertEquals(List.of("train.jsonl"), DatasetFixtures.siblings(spec.outputDir));
    }

    @Test
    void filesThatAreNotPartOfADatasetAreLeftAlone() throws Exception {
        Path outputDir = work.resolve("out");
        Files.createDirectories(outputDir);
        write(outputDir, "notes.txt", "keep me");
        PrepareSpec spec = spec(write(work, "train.jsonl", jsonLine("a", "pos") + "\n" + jsonLine("b", "neg") + "\n"));
        prepare(spec);
        assertEquals("keep me", Files.readString(outputDir.resolve("notes.txt")));
        assertTrue(Files.exists(outputDir.resolve(Manifest.FILE)));
    }

    @Test
    void roundTripGivesTheTokenizerIdsAndLabelsOfEveryAcceptedRow() throws Exception {
        List<String> texts = List.of("Hello, world!", "café naïve résumé", "😀👍🏽🚀 emoji", "日本語のテキストです。",
                "def f(x):\n    return x ** 2", "  leading and trailing  ", "UPPERCASE SHOUTING", "tab\tseparated",
                "a much longer text that goes on and on for quite a number of tokens, more than the limit", "last one");
        Map<String, String> labelByTokens = new HashMap<>();
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < texts.size(); i++) {
            String label = i % 3 == 0 ? "spam" : "ham";
            rows.append(jsonLine(texts.get(i), label)).append('\n');
            labelByTokens.put(Arrays.toString(TruncationSide.RIGHT.truncate(tokenizer.encode(texts.get(i)), 12)), label);
        }
        PrepareSpec spec = spec(write(work, "train.jsonl", rows.toString()));
        spec.maxLength = 12;
        spec.maxShardBytes = Shards.bytesFor(3, 3 * 12);
        spec.testFraction = 0.3;

        prepare(spec);

        TokenizedDataset dataset = TokenizedDataset.open(spec.outputDir);
        assertEquals(List.of("ham", "spam"), dataset.labels());
        assertEquals(tokenizer.sha256(), dataset.tokenizerSha256());
        List<String> seen = new ArrayList<>();
        for (String name : List.of(Manifest.TRAIN, Manifest.TEST)) {
            TokenizedDataset.Split split = dataset.split(name);
            for (int row = 0; row < split.size(); row++) {
                String key = Arrays.toString(split.tokens(row));
                assertTrue(labelByTokens.containsKey(key), name + " row " + row + " is no text's token ids: " + key);
                assertEquals(labelByTokens.get(key), dataset.labels().get(split.label(row)), key);
                assertEquals(split.tokens(row).length, split.length(row));
                seen.add(key);
            }
        }
        assertEquals(labelByTokens.keySet(), Set.copyOf(seen));
        assertEquals(texts.size(), seen.size());
        List<Manifest.Shard> shards = dataset.manifest().splits().get(Manifest.TRAIN).shards();
        assertTrue(shards.size() > 1, "rows are spread over several shards: " + shards);
        for (int i = 0; i < shards.size(); i++) {
            Manifest.Shard shard = shards.get(i);
            assertEquals(Shards.fileName(Manifest.TRAIN, i), shard.file());
            assertEquals(Files.size(spec.outputDir.resolve(shard.file())), shard.bytes());
            assertTrue(shard.bytes() <= spec.maxShardBytes, shard + " is over " + spec.maxShardBytes + " bytes");
        }
        assertEquals(7, shards.stream().mapToInt(Manifest.Shard::rows).sum());
    }

    @Test
    void manifestCountsEqualSummaryCountsAndRejectionReport() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 30; i++) {
            rows.append(jsonLine("text number " + i, i % 2 == 0 ? "even" : "odd")).append('\n');
            if (i < 25) {
                rows.append("{\"text\": \"no label " + i + "\"}\n");
            }
        }
        PrepareSpec spec = spec(write(work, "train.jsonl", rows.toString()));
        spec.testFraction = 0.1;

        PrepareSummary summary = prepare(spec);

        Manifest manifest = TokenizedDataset.open(spec.outputDir).manifest();
        assertEquals(Manifest.FORMAT, manifest.format());
        assertEquals("2026-01-02T03:04:05Z", manifest.createdAt());
        assertEquals(summary.rowsRead(), manifest.sources().get(0).rowsRead());
        assertEquals(summary.accepted(), manifest.sources().get(0).accepted());
        assertEquals(summary.rejected(), manifest.rejected().count());
        assertEquals(55, summary.rowsRead());
        assertEquals(30, summary.accepted());
        assertEquals(25, summary.rejected());
        assertEquals(summary.accepted(), manifest.splits().get(Manifest.TRAIN).rows() + manifest.splits().get(Manifest.TEST).rows());
        for (Manifest.SplitStats split : manifest.splits().values()) {
            assertEquals(split.rows(), split.perClass().values().stream().mapToInt(Integer::intValue).sum());
        }
        assertEquals(summary.splits(), manifest.splits());
        assertEquals(25, rejected(spec.outputDir).size());
        assertEquals(PrepareSummary.FIRST_REJECTIONS, summary.firstRejections().size());

        JsonNode json = DatasetFixtures.JSON.readTree(spec.outputDir.resolve(Manifest.FILE).toFile());
        for (String field : List.of("format", "created_at", "tokenizer", "max_length", "text_column", "label_column",
                "labels", "label2id", "split", "sources", "splits", "rejected")) {
            assertTrue(json.has(field), "manifest.json lacks " + field + ": " + json);
        }
        assertEquals(0.1, json.path("split").path("test_fraction").asDouble());
        assertEquals(25, json.path("sources").get(0).path("rejected").asInt());
        assertEquals(TextTokenizer.sha256(Files.readAllBytes(spec.trainFiles.get(0).path())), json.path("sources").get(0).path("sha256").asText());
        assertTrue(json.path("splits").path("train").path("tokens").has("p95"));
        assertEquals(1, json.path("label2id").path("odd").asInt());
    }

    @Test
    void unusableFilesStopTheJobWithAClearMessage() throws Exception {
        String notParquet = assertThrows(DatasetException.class, () -> prepare(spec(write(work, "train.parquet", "PAR1"))))
                .getMessage();
        assertTrue(notParquet.startsWith("train.parquet is not a readable Parquet file (the file is not a Parquet file"),
                notParquet);
        assertTrue(assertThrows(DatasetException.class, () -> prepare(spec(write(work, "train.txt", "a"))))
                .getMessage().startsWith("cannot tell the format of train.txt from its name"));
        assertTrue(assertThrows(DatasetException.class, () -> prepare(spec(work.resolve("absent.jsonl"))))
                .getMessage().startsWith("dataset file not found: "));
        assertTrue(assertThrows(DatasetException.class, () -> prepare(spec(write(work, "empty.csv", ""))))
                .getMessage().endsWith("empty.csv is empty"));
        assertEquals("header.csv holds no rows, only a header",
                assertThrows(DatasetException.class, () -> prepare(spec(write(work, "header.csv", "text,label\n")))).getMessage());
        assertEquals("blank.jsonl holds no rows",
                assertThrows(DatasetException.class, () -> prepare(spec(write(work, "blank.jsonl", "\n  \n")))).getMessage());
        Path latin1 = work.resolve("latin1.csv");
        Files.write(latin1, "text,label\ncaf\u00e9,pos\n".getBytes(StandardCharsets.ISO_8859_1));
        assertEquals("no row of latin1.csv was accepted (1 read); first rejections: latin1.csv record 1 (line 2):"
                + " line 2 holds bytes that are not UTF-8; save the file as UTF-8",
                assertThrows(DatasetException.class, () -> prepare(spec(latin1))).getMessage());
        assertFalse(Files.exists(work.resolve("out")));
    }

    @Test
    void tabSeparatedFilesSplitOnTabsOnly() throws Exception {
        PrepareSpec spec = spec(write(work, "train.tsv", "text\tlabel\nhello, world\tpos\nbye\tneg\n"));
        prepare(spec);
        assertEquals("hello, world", tokenizer.decode(TokenizedDataset.open(spec.outputDir).split(Manifest.TRAIN).tokens(0)));
    }

    @Test
    void aByteOrderMarkIsNotPartOfTheFirstColumnName() throws Exception {
        PrepareSpec spec = spec(write(work, "excel.csv", "\uFEFFtext,label\nhello,pos\nbye,neg\n"));
        assertEquals(2, prepare(spec).accepted());
    }

    @Test
    void invalidSpecsAreRefused() {
        PrepareSpec spec = DatasetFixtures.spec(work.resolve("train.jsonl"), tokenizerJson, work.resolve("out"));
        spec.testFraction = 1;
        assertEquals("invalid prepare spec: testFraction must be in [0, 1), got 1.0",
                assertThrows(DatasetException.class, () -> prepare(spec)).getMessage());
        spec.testFraction = 0.1;
        spec.labels = List.of("a", "b", "a");
        assertEquals("invalid prepare spec: labels lists 'a' twice",
                assertThrows(DatasetException.class, () -> prepare(spec)).getMessage());
    }
}
