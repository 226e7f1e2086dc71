package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;
import static io.gpt2cls.dataset.DatasetFixtures.prepare;
import static io.gpt2cls.dataset.DatasetFixtures.rejected;
import static io.gpt2cls.dataset.DatasetFixtures.write;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;

import io.gpt2cls.function.TestModels;

/** Rows that break a reader's limits or are not UTF-8 are rejected rows; the file's other rows are kept. */
class MalformedRowsTest {

    static Path tokenizerJson;

    @TempDir
    Path work;

    @BeforeAll
    static void buildTokenizer() throws Exception {
        tokenizerJson = TestModels.tokenizer(); // built once per JVM, shared read-only
    }

    private PrepareSpec spec(Path train) {
        PrepareSpec spec = DatasetFixtures.spec(train, tokenizerJson, work.resolve("out"));
        spec.testFraction = 0;
        return spec;
    }

    private static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void jsonLinesOverTheReadersLimitsAreRejectedRowsNamingTheLimit() throws Exception {
        Path file = work.resolve("train.jsonl");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(utf8(jsonLine("good one", "pos") + "\n"));                                            // 1
            out.write(utf8("{\"text\": " + "[".repeat(1_001) + "]".repeat(1_001) + ", \"label\": 1}\n"));   // 2
            out.write(utf8("{\"text\": \"a number\", \"label\": " + "9".repeat(1_001) + "}\n"));             // 3
            out.write(utf8("{\"text\": \""));                                                               // 4
            byte[] block = utf8("x".repeat(1 << 20));
            for (int i = 0; i < 21; i++) {
                out.write(block); // 21M characters: far past the string limit, never held whole
            }
            out.write(utf8("\", \"label\": \"pos\"}\n"));
            out.write(utf8("{\"text\": \"a key\", \"" + "k".repeat(50_001) + "\": 1, \"label\": 1}\n"));     // 5
            out.write(utf8(jsonLine("good two", "neg") + "\n"));                                            // 6
        }

        PrepareSummary summary = prepare(spec(file));

        List<JsonNode> report = rejected(work.resolve("out"));
        assertEquals(List.of(2L, 3L, 4L, 5L), report.stream().map(r -> r.path("line").asLong()).toList());
        assertTrue(report.get(0).path("reason").asText()
                .startsWith("values are nested deeper than 1000 levels, the limit for a line (at column "), report.get(0).toString());
        assertTrue(report.get(1).path("reason").asText()
                .startsWith("a number is longer than 1000 characters, the limit for a number (at column "), report.get(1).toString());
        assertTrue(report.get(2).path("reason").asText()
                .startsWith("a string is longer than 1000000 characters, the limit for a text (at column "), report.get(2).toString());
        assertTrue(report.get(3).path("reason").asText()
                .startsWith("a key is longer than 50000 characters, the limit for a key (at column "), report.get(3).toString());
        assertEquals(6, summary.rowsRead());
        assertEquals(2, summary.accepted());
        assertEquals(summary.rowsRead(), summary.accepted() + summary.rejected());
    }

    @Test
    void aJsonLineLongerThanTheLineLimitIsARejectedRow() throws Exception {
        StringBuilder line = new StringBuilder("{\"text\": \"many strings\"");
        for (int i = 0; line.length() <= JsonLinesReader.MAX_LINE_CHARS; i++) {
            line.append(", \"s").append(i).append("\": \"").append("y".repeat(900_000)).append('"');
        }
        line.append(", \"label\": 1}");
        Path file = write(work, "train.jsonl", jsonLine("before", 0) + "\n" + line + "\n" + jsonLine("after", 1) + "\n");

        PrepareSummary summary = prepare(spec(file));

        assertEquals(2, summary.accepted());
        assertTrue(summary.firstRejections().get(0).toString().startsWith("train.jsonl line 2: the line is longer than"
                + " 10000000 characters, the limit for a line"), summary.firstRejections().get(0).toString());
    }

    @Test
    void aJsonLineWithBytesThatAreNotUtf8IsARejectedRowWithItsLine() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(utf8(jsonLine("first", "pos") + "\n" + jsonLine("second", "neg") + "\n"));
        bytes.write(jsonLine("caf\u00e9 in latin-1", "pos").getBytes(StandardCharsets.ISO_8859_1)); // line 3
        bytes.write(utf8("\n" + jsonLine("fourth, caf\u00e9 in UTF-8", "neg") + "\n"));
        Path file = work.resolve("train.jsonl");
        Files.write(file, bytes.toByteArray());

        PrepareSummary summary = prepare(spec(file));

        assertEquals(3, summary.accepted());
        assertEquals("train.jsonl line 3: the line holds bytes that are not UTF-8; save the file as UTF-8",
                summary.firstRejections().get(0).toString());
    }

    @Test
    void aCsvRecordWithBytesThatAreNotUtf8IsARejectedRowWithItsLine() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        bytes.write(utf8("text,label\n\"a quoted\nfirst row\",pos\nsecond,neg\n"));   // records 1 (lines 2-3) and 2 (line 4)
        bytes.write("caf\u00e9,pos\n".getBytes(StandardCharsets.ISO_8859_1));          // record 3, line 5
        bytes.write(utf8("fourth,neg\n"));                                              // record 4, line 6
        Path file = work.resolve("invalid-utf8.csv");
        Files.write(file, bytes.toByteArray());

        PrepareSummary summary = prepare(spec(file));

        assertEquals(3, summary.accepted(), "the good rows are kept");
        List<JsonNode> report = rejected(work.resolve("out"));
        assertEquals(1, report.size());
        assertEquals(3, report.get(0).path("record").asLong());
        assertEquals(5, report.get(0).path("line").asLong());
        assertEquals("line 5 holds bytes that are not UTF-8; save the file as UTF-8", report.get(0).path("reason").asText());
    }

    @Test
    void aCsvQuoteThatIsNeverClosedStopsTheFileNamingTheLineItOpensOn() throws Exception {
        Path file = write(work, "broken.csv", "text,label\nok,pos\nfine,neg\nx,\"unclosed\nmore,pos\nlast,neg\n");
        DatasetException error = assertThrows(DatasetException.class, () -> prepare(spec(file)));
        assertEquals("broken.csv: the quote that opens on line 4 (record 3) is never closed, so the rest of the file would"
                + " be one field. Close it, or double each quote inside a quoted field (\"\")", error.getMessage());
        assertFalse(Files.exists(work.resolve("out")));
    }

    @Test
    void aCsvRecordLongerThanTheLimitStopsTheFileNamingItsFirstLine() throws Exception {
        Path file = work.resolve("swallowed.csv");
        try (OutputStream out = Files.newOutputStream(file)) {
            out.write(utf8("text,label\nok,pos\n\"opens here,neg\n"));
            byte[] row = utf8("a row that the open quote swallows,pos\n");
            for (long written = 0; written <= CsvReader.MAX_RECORD_CHARS + 1_000_000; written += row.length) {
                out.write(row);
            }
        }
        DatasetException error = assertThrows(DatasetException.class, () -> prepare(spec(file)));
        assertEquals("swallowed.csv: record 2, which starts on line 3, runs past 10000000 characters; a quote that opens"
                + " there is probably never closed. Close it, or double each quote inside a quoted field (\"\")",
                error.getMessage());
    }

    @Test
    void aLabelOfOnlyWhitespaceIsNoClass() throws Exception {
        Path file = write(work, "train.csv", "text,label\none,pos\ntwo, \nthree,neg\n");
        PrepareSummary summary = prepare(spec(file));
        assertEquals(List.of("neg", "pos"), summary.labels());
        assertEquals("train.csv record 2 (line 3): label column 'label' holds only whitespace",
                summary.firstRejections().get(0).toString());
    }
}
