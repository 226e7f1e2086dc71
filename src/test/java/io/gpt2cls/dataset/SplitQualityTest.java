package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;
import static io.gpt2cls.dataset.DatasetFixtures.prepare;
import static io.gpt2cls.dataset.DatasetFixtures.rejected;
import static io.gpt2cls.dataset.DatasetFixtures.write;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.gpt2cls.function.TestModels;
import io.gpt2cls.tokenizer.TokenizerException;

/** What a prepared split tells about its rows: duplicates, train/test leakage, token lengths. */
class SplitQualityTest {

    static Path tokenizerJson;

    @TempDir
    Path work;

    @BeforeAll
    static void buildTokenizer() throws Exception {
        tokenizerJson = TestModels.tokenizer(); // built once per JVM, shared read-only
    }

    private PrepareSpec withTestFile(String train, String test) throws Exception {
        PrepareSpec spec = DatasetFixtures.spec(write(work, "train.jsonl", train), tokenizerJson, work.resolve("out"));
        spec.testFiles = List.of(DatasetFixtures.named(write(work, "test.jsonl", test)));
        return spec;
    }

    private static String lines(String... jsonLines) {
        return String.join("\n", jsonLines) + "\n";
    }

    @Test
    void exactTextRepeatsAreCountedAsDuplicatesWithinEachSplit() throws Exception {
        PrepareSpec spec = withTestFile(
                lines(jsonLine("spam offer", "spam"), jsonLine("hello", "ham"), jsonLine("spam offer", "spam"),
                        jsonLine("spam offer", "ham"), jsonLine("Hello", "ham"), jsonLine("hello ", "ham")),
                lines(jsonLine("new text", "ham"), jsonLine("new text", "spam")));

        PrepareSummary summary = prepare(spec);

        assertEquals(2, summary.split(Manifest.TRAIN).duplicates(), "the 2nd and 3rd 'spam offer', whatever their label");
        assertEquals(1, summary.split(Manifest.TEST).duplicates());
        assertEquals(0, summary.leakage().rows(), "case and whitespace make other texts");
    }

    @Test
    void testRowsWhoseTextIsInTrainAreReportedAsLeakageWithBothLocations() throws Exception {
        PrepareSpec spec = withTestFile(
                lines(jsonLine("win a prize now", "spam"), jsonLine("lunch at noon?", "ham"), jsonLine("meeting notes", "ham")),
                lines(jsonLine("a new message", "ham"), jsonLine("lunch at noon?", "ham"), jsonLine("win a prize now", "spam")));

        PrepareSummary summary = prepare(spec);

        Manifest.Leakage leakage = summary.leakage();
        assertEquals(2, leakage.rows());
        assertFalse(leakage.dropped());
        assertEquals(List.of(new Manifest.LeakedRow("lunch at noon?", "train.jsonl line 2", "test.jsonl line 2"),
                new Manifest.LeakedRow("win a prize now", "train.jsonl line 1", "test.jsonl line 3")), leakage.examples());
        assertEquals(3, summary.split(Manifest.TEST).rows(), "kept unless asked otherwise");
        assertEquals(leakage, TokenizedDataset.open(spec.outputDir).manifest().leakage());
    }

    @Test
    void droppedLeakedRowsBecomeRejectionsSoEveryFileStillBalances() throws Exception {
        PrepareSpec spec = withTestFile(
                lines(jsonLine("win a prize now", "spam"), jsonLine("lunch at noon?", "ham"), jsonLine("meeting notes", "ham")),
                lines(jsonLine("a new message", "ham"), jsonLine("lunch at noon?", "ham"), jsonLine("", "ham")));
        spec.dropLeakedTestRows = true;

        PrepareSummary summary = prepare(spec);

        assertTrue(summary.leakage().dropped());
        assertEquals(1, summary.split(Manifest.TEST).rows());
        Manifest.Source test = summary.sources().get(1);
        assertEquals(3, test.rowsRead());
        assertEquals(1, test.accepted());
        assertEquals(2, test.rejected());
        for (Manifest.Source source : summary.sources()) {
            assertEquals(source.rowsRead(), source.accepted() + source.rejected(), source.path());
        }
        List<JsonNode> report = rejected(spec.outputDir);
        assertEquals(2, report.size());
        assertEquals("leaked: also in train at train.jsonl line 2", report.get(0).path("reason").asText());
        assertEquals(2, report.get(0).path("line").asLong());
        assertEquals("lunch at noon?", report.get(0).path("text_preview").asText());
        assertEquals(3, report.get(1).path("line").asLong(), "rejections stay in file order");
    }

    @Test
    void aStratifiedSplitReportsCopiesThatLandOnBothSides() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 20; i++) {
            rows.append(jsonLine("the same text", i % 2 == 0 ? "a" : "b")).append('\n');
        }
        PrepareSpec spec = DatasetFixtures.spec(write(work, "train.jsonl", rows.toString()), tokenizerJson, work.resolve("out"));
        spec.testFraction = 0.2;
        spec.dropLeakedTestRows = true;

        PrepareSummary summary = prepare(spec);

        assertEquals(4, summary.leakage().rows());
        assertEquals(0, summary.split(Manifest.TEST).rows());
        assertEquals(15, summary.split(Manifest.TRAIN).duplicates());
        assertEquals(16, summary.accepted());
        assertEquals(20, summary.rowsRead());
    }

    @Test
    void tokenStatsGiveTheLengthsBeforeTruncationToChooseMaxLengthFrom() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 1; i <= 100; i++) {
            rows.append(jsonLine(" x".repeat(i), i % 2)).append('\n'); // i tokens: " x" each
        }
        PrepareSpec spec = DatasetFixtures.spec(write(work, "train.jsonl", rows.toString()), tokenizerJson, work.resolve("out"));
        spec.testFraction = 0;
        spec.maxLength = 50;

        Manifest.SplitStats train = prepare(spec).split(Manifest.TRAIN);

        Manifest.TokenStats before = train.tokensBeforeTruncation();
        assertEquals(List.of(1, 50, 90, 95, 99, 100),
                List.of(before.min(), before.p50(), before.p90(), before.p95(), before.p99(), before.max()));
        Manifest.TokenStats kept = train.tokens();
        assertEquals(List.of(50, 50, 50, 50), List.of(kept.p90(), kept.p95(), kept.p99(), kept.max()));
        assertEquals(50, train.truncated());
        assertEquals(0.5, train.truncatedFraction());
        assertEquals(5050, before.total());
    }

    @Test
    void aTokenizerFileThatIsNotJsonIsNamed() throws Exception {
        Path notJson = write(work, "tokenizer.json", "PK\u0003\u0004 not a tokenizer");
        PrepareSpec spec = DatasetFixtures.spec(write(work, "train.jsonl", lines(jsonLine("a", "x"), jsonLine("b", "y"))),
                notJson, work.resolve("out"));
        TokenizerException error = assertThrows(TokenizerException.class, () -> prepare(spec));
        assertTrue(error.getMessage().startsWith(notJson + " is not a Hugging Face tokenizer.json ("), error.getMessage());
        assertTrue(error.getMessage().endsWith("; give the tokenizer.json saved by tokenizer.save_pretrained(dir), or write"
                + " GPT-2's with 'tokenizer gpt2 --out DIR'"), error.getMessage());

        spec.tokenizerLocation = "s3://bucket/models/broken/tokenizer.json";
        assertTrue(assertThrows(TokenizerException.class, () -> prepare(spec)).getMessage()
                .startsWith("s3://bucket/models/broken/tokenizer.json is not a Hugging Face tokenizer.json ("),
                "named as the user gave it, not by its local copy");

        spec.tokenizerLocation = null;
        Path jsonButNoTokenizer = write(work, "config.json", "{\"n_layer\": 2}");
        spec.tokenizer = jsonButNoTokenizer;
        assertTrue(assertThrows(TokenizerException.class, () -> prepare(spec)).getMessage()
                .startsWith(jsonButNoTokenizer + " is not a Hugging Face tokenizer.json ("));
    }
}
