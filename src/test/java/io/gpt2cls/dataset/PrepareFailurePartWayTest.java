package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.function.TestModels;

/**
 * A file that fails part-way, after chunks of good rows went to the native tokenizer's workers, ends
 * the run with one clear error: the tokenizer is freed only after every worker stopped. Before that,
 * 7 of 10 such runs aborted the JVM (exit 134) or printed native panics from {@code TokenizersLibrary}.
 * Each run is a child JVM, as a user's command is, so an abort shows as its exit status.
 */
class PrepareFailurePartWayTest {

    static final int RUNS = 20;

    @TempDir
    Path work;

    @Test
    void aGzipCutInHalfEndsWithOneErrorEveryTime() throws Exception {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            gzip.write(goodRows(4000, "{\"text\": \"%s\", \"label\": \"%s\"}\n").getBytes(StandardCharsets.UTF_8));
        }
        byte[] whole = bytes.toByteArray();
        Path file = work.resolve("train.jsonl.gz");
        Files.write(file, Arrays.copyOf(whole, whole.length / 2));
        failsCleanly(file, "is truncated");
    }

    @Test
    void aQuoteThatNeverClosesEndsWithOneErrorEveryTime() throws Exception {
        String rows = "text,label\n" + goodRows(1500, "%s,%s\n") + "\"this quote is never closed,spam\n" + goodRows(1500, "%s,%s\n");
        Path file = Files.writeString(work.resolve("train.csv"), rows);
        failsCleanly(file, "is never closed");
    }

    /** Rows long enough that the tokenizer's workers are still busy when the reader fails. */
    private static String goodRows(int count, String format) {
        StringBuilder out = new StringBuilder();
        for (int i = 0; i < count; i++) {
            out.append(String.format(format, ("row " + i + " of a message about cheap loans and meetings ").repeat(12),
                    i % 2 == 0 ? "spam" : "ham"));
        }
        return out.toString();
    }

    private void failsCleanly(Path file, String expected) throws Exception {
        Path tokenizer = TestModels.tokenizer();
        List<String> failures = new ArrayList<>();
        for (int run = 0; run < RUNS; run++) {
            Path out = work.resolve("out-" + file.getFileName() + "-" + run);
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), PrepareChild.class.getName(),
                    file.toString(), tokenizer.toString(), out.toString())
                    .redirectErrorStream(true).start();
            String output = new String(child.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            assertTrue(child.waitFor(2, TimeUnit.MINUTES), "run " + run + " ended");
            long errors = output.lines().filter(line -> line.startsWith("error: ")).count();
            boolean panic = output.contains("panic") || output.contains("SIGSEGV") || output.contains("fatal error");
            if (child.exitValue() != 1 || errors != 1 || panic || !output.contains(expected)) {
                failures.add("run " + run + ": exit " + child.exitValue() + ", " + errors + " error lines, "
                        + (panic ? "native panic" : "no panic") + "; output starts: "
                        + output.substring(0, Math.min(600, output.length())));
            }
        }
        assertEquals(List.of(), failures, failures.size() + " of " + RUNS + " runs did not end with exit 1 and one error");
        assertFalse(Files.exists(work.resolve("out-" + file.getFileName() + "-0").resolve(Manifest.FILE)));
    }

    /** A child JVM's prepare, reporting as the command line does: {@code error: MESSAGE} and exit status 1. */
    public static final class PrepareChild {
        public static void main(String[] args) throws IOException {
            PrepareSpec spec = DatasetFixtures.spec(Path.of(args[0]), Path.of(args[1]), Path.of(args[2]));
            try {
                new DatasetPreparer().prepare(spec);
            } catch (DatasetException e) {
                System.err.println("error: " + e.getMessage());
                System.exit(1);
            }
            System.exit(0);
        }
    }
}
