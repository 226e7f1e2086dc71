package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.FIXED_CLOCK;
import static io.gpt2cls.dataset.DatasetFixtures.JSON;
import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.zip.GZIPOutputStream;

import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.dataset.ParquetFixtures.Row;
import io.gpt2cls.function.TestModels;
import io.gpt2cls.runtime.Directories;
import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * Prepare as map and reduce gives the one-process result: the same manifest (field by field, the
 * creation time aside), the same rejected rows, and every accepted row in exactly one shard of the
 * same split, whichever way the inputs are cut into tasks, in whatever order the tasks run, and when a
 * task runs twice. The inputs hold gzip JSON Lines, CSV, plain JSON Lines read in byte ranges and
 * Parquet read in runs of row groups, with duplicates, leakage and rejected rows.
 */
class MapReduceEqualsOneProcessTest {

    static Path tokenizerJson;

    @TempDir
    Path work;

    @BeforeAll
    static void buildTokenizer() throws Exception {
        tokenizerJson = TestModels.tokenizer();
    }

    private static final String[] LABELS = {"billing", "outage", "praise"};

    /** Row {@code i}'s text; every 17th repeats an earlier one, so splits hold duplicates and leak into each other. */
    private static String text(int i) {
        int source = i % 17 == 16 ? i / 3 : i;
        return "ticket " + source + " " + LABELS[source % 3] + " about " + "the meter reading ".repeat(source % 5);
    }

    private static String label(int i) {
        return LABELS[(i % 17 == 16 ? i / 3 : i) % 3];
    }

    /** JSON Lines rows {@code [from, to)}, with a bad line, a missing label and a blank text among them. */
    private static String jsonLines(int from, int to) throws IOException {
        StringBuilder out = new StringBuilder();
        for (int i = from; i < to; i++) {
            if (i % 41 == 7) {
                out.append("{\"text\": \"cut off\n");
            } else if (i % 43 == 8) {
                out.append("{\"text\": \"no label ").append(i).append("\"}\n");
            } else if (i % 47 == 9) {
                out.append(jsonLine("   ", label(i))).append("\n\n"); // and a blank line
            } else {
                out.append(jsonLine(text(i), label(i))).append('\n');
            }
        }
        return out.toString();
    }

    private Path gzip(String name, String content) throws IOException {
        Path file = work.resolve(name);
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(file))) {
            out.write(content.getBytes(StandardCharsets.UTF_8));
        }
        return file;
    }

    private Path csv(String name, int from, int to, String extraLabel) throws IOException {
        StringBuilder out = new StringBuilder("text,label\n");
        for (int i = from; i < to; i++) {
            String label = i % 29 == 3 ? extraLabel : label(i);
            out.append('"').append(text(i)).append("\",").append(i % 31 == 5 ? "" : label).append('\n');
        }
        return Files.writeString(work.resolve(name), out);
    }

    private Path parquet(String name, int from, int to) throws IOException {
        List<Row> rows = new ArrayList<>();
        for (int i = from; i < to; i++) {
            rows.add(i % 37 == 4 ? new Row(null, label(i)) : new Row(text(i), label(i)));
        }
        return ParquetFixtures.write(work.resolve(name), ParquetFixtures.schema("binary"), CompressionCodecName.SNAPPY,
                2 * 1024, rows);
    }

    private PrepareSpec spec(List<Path> train, List<Path> test) {
        PrepareSpec spec = new PrepareSpec();
        spec.trainFiles = train.stream().map(DatasetFixtures::named).toList();
        spec.trainLocation = "tickets/train/";
        if (test != null) {
            spec.testFiles = test.stream().map(DatasetFixtures::named).toList();
            spec.testLocation = "tickets/test/";
        }
        spec.tokenizer = tokenizerJson;
        spec.maxLength = 12;
        spec.maxShardBytes = Shards.bytesFor(40, 40 * 12);
        return spec;
    }

    /** One JSON Lines file of {@code rows} rows, cut into ranges of 4 KB. */
    private PrepareSpec rangedJsonLines(int rows) throws IOException {
        PrepareSpec spec = spec(List.of(Files.writeString(work.resolve("train.jsonl"), jsonLines(0, rows))), null);
        spec.taskBytes = 4 * 1024;
        return spec;
    }

    private Path oneProcess(PrepareSpec spec, String out) throws IOException {
        spec.outputDir = work.resolve(out);
        new DatasetPreparer(FIXED_CLOCK).prepare(spec);
        return spec.outputDir;
    }

    /**
     * As the engine runs it: each task alone with its result stored and read back, in shuffled order,
     * one task twice (its second result replaces the first whole); then the reduce.
     */
    private Path mapReduce(PrepareSpec spec, String out, long seed) throws IOException {
        List<PrepareTask> tasks = new ArrayList<>(PrepareTask.plan(spec));
        Collections.shuffle(tasks, new Random(seed));
        tasks.add(tasks.get(0));
        Map<String, Path> stored = new TreeMap<>();
        try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
            for (PrepareTask task : tasks) {
                Path dir = work.resolve(out + "-parts").resolve(task.key().replace('/', '_'));
                Directories.deleteTree(dir);
                Files.createDirectories(dir);
                DatasetPreparer.map(spec, task, tokenizer).write(dir);
                stored.put(task.key(), dir);
            }
        }
        List<PrepareTask> planned = new ArrayList<>(PrepareTask.plan(spec));
        Collections.shuffle(planned, new Random(seed + 1));
        spec.outputDir = work.resolve(out);
        new DatasetPreparer(FIXED_CLOCK).reduce(spec, planned, task -> PartResult.read(stored.get(task.key()), task));
        return spec.outputDir;
    }

    private static void assertSameDataset(Path expected, Path actual) throws Exception {
        ObjectNode expectedManifest = (ObjectNode) JSON.readTree(expected.resolve(Manifest.FILE).toFile());
        ObjectNode actualManifest = (ObjectNode) JSON.readTree(actual.resolve(Manifest.FILE).toFile());
        expectedManifest.remove("created_at");
        actualManifest.remove("created_at");
        for (String field : List.of("tokenizer", "labels", "label2id", "inputs", "split", "sources", "splits", "leakage", "rejected")) {
            assertEquals(expectedManifest.get(field), actualManifest.get(field), "manifest field " + field);
        }
        assertEquals(expectedManifest, actualManifest, "manifest");
        assertEquals(Files.readString(expected.resolve(Manifest.REJECTED_FILE)), Files.readString(actual.resolve(Manifest.REJECTED_FILE)));
        for (String split : List.of(Manifest.TRAIN, Manifest.TEST)) {
            assertEquals(rowSet(expected, split), rowSet(actual, split), split + " rows");
        }
        // the row sets are equal and every row is in one shard; the shards are even the same bytes
        Map<String, byte[]> expectedFiles = DatasetFixtures.snapshot(expected);
        Map<String, byte[]> actualFiles = DatasetFixtures.snapshot(actual);
        assertEquals(expectedFiles.keySet(), actualFiles.keySet());
        for (String name : expectedFiles.keySet()) {
            if (name.endsWith(".safetensors")) {
                assertArrayEquals(expectedFiles.get(name), actualFiles.get(name), name);
            }
        }
    }

    /** Each row of a split as "label: tokens", counted: a row in two shards, or in none, changes the count. */
    private static Map<String, Integer> rowSet(Path dir, String split) throws IOException {
        Manifest manifest = Manifest.read(dir);
        Map<String, Integer> rows = new TreeMap<>();
        int total = 0;
        for (Manifest.Shard info : manifest.splits().get(split).shards()) {
            Shards.Mapped shard = Shards.open(dir, info, manifest.labels().size());
            for (int r = 0; r < shard.rows(); r++) {
                rows.merge(shard.label(r) + ": " + java.util.Arrays.toString(shard.tokens(r)), 1, Integer::sum);
                total++;
            }
        }
        assertEquals(manifest.splits().get(split).rows(), total, split + " rows in the shards");
        return rows;
    }

    @Test
    void partFilesOfEveryFormatWithAStratifiedSplit() throws Exception {
        List<Path> train = List.of(
                gzip("part-0.jsonl.gz", jsonLines(0, 300)),
                csv("part-1.csv", 300, 500, "billing"),
                Files.writeString(work.resolve("part-2.jsonl"), jsonLines(500, 1100)),
                parquet("part-3.parquet", 1100, 1600));
        PrepareSpec spec = spec(train, null);
        spec.testFraction = 0.2;
        spec.taskBytes = 2 * 1024;
        List<PrepareTask> tasks = PrepareTask.plan(spec);
        assertTrue(tasks.stream().filter(t -> t.file().name().equals("part-2.jsonl")).count() >= 4, "byte ranges: " + tasks);
        assertTrue(tasks.stream().filter(t -> t.file().name().equals("part-3.parquet")).count() >= 3, "row groups: " + tasks);
        assertEquals(1, tasks.stream().filter(t -> t.file().name().equals("part-0.jsonl.gz")).count(), "gzip stays whole");

        PrepareSpec whole = spec(train, null);
        whole.testFraction = 0.2;
        Path expected = oneProcess(whole, "one-process");
        Manifest manifest = Manifest.read(expected);
        assertTrue(manifest.splits().get(Manifest.TRAIN).duplicates() > 0 && manifest.leakage().rows() > 0
                && manifest.rejected().count() > 20, "the input has duplicates, leakage and rejected rows");

        assertSameDataset(expected, mapReduce(spec, "map-reduce", 1));
        spec.workers = 4;
        assertSameDataset(expected, oneProcess(spec, "four-workers"));
    }

    @Test
    void trainAndTestInputsWithUnseenLabelsAndDroppedLeaks() throws Exception {
        List<Path> train = List.of(
                Files.writeString(work.resolve("train-0.jsonl"), jsonLines(0, 900)),
                parquet("train-1.parquet", 900, 1400));
        List<Path> test = List.of(
                csv("test-0.csv", 100, 260, "refund"),      // texts from train: leakage; 'refund' is not a training label
                gzip("test-1.jsonl.gz", jsonLines(1350, 1500)));
        PrepareSpec spec = spec(train, test);
        spec.dropLeakedTestRows = true;
        spec.taskBytes = 6 * 1024;

        PrepareSpec whole = spec(train, test);
        whole.dropLeakedTestRows = true;
        Path expected = oneProcess(whole, "one-process");
        Manifest manifest = Manifest.read(expected);
        assertTrue(manifest.leakage().rows() > 0 && manifest.leakage().dropped());
        assertTrue(Files.readString(expected.resolve(Manifest.REJECTED_FILE)).contains("does not occur in the training input"));

        assertSameDataset(expected, mapReduce(spec, "map-reduce", 2));
        spec.workers = 3;
        assertSameDataset(expected, oneProcess(spec, "three-workers"));
    }

    @Test
    void aMissingOrIncompleteMapResultStopsTheReduceNamingTheFile() throws Exception {
        PrepareSpec spec = rangedJsonLines(400);
        List<PrepareTask> tasks = PrepareTask.plan(spec);
        Map<PrepareTask, PartResult> parts = new java.util.LinkedHashMap<>();
        try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
            for (PrepareTask task : tasks.subList(0, tasks.size() - 1)) {
                parts.put(task, DatasetPreparer.map(spec, task, tokenizer));
            }
        }
        spec.outputDir = work.resolve("out");
        List<PrepareTask> done = new ArrayList<>(parts.keySet());
        DatasetException error = assertThrows(DatasetException.class, () -> new DatasetPreparer().reduce(spec, done, parts::get));
        assertEquals("no map result for the end of train.jsonl (train file 1); its map task has not run or failed: run the"
                + " prepare again", error.getMessage());
        done.remove(1);
        error = assertThrows(DatasetException.class, () -> new DatasetPreparer().reduce(spec, done, parts::get));
        assertTrue(error.getMessage().startsWith("the map results for train.jsonl do not cover it once from start to end"),
                error.getMessage());
    }

    /**
     * The reduce reads each map result twice, one at a time, and keeps none: by the time it reads a
     * task's result, every result it read before (but the one just before, still in a local variable
     * while the next is read) can be collected. Holding all rows, as a reduce of lists does, fails this.
     */
    @Test
    void theReduceHoldsOneMapResultAtATime() throws Exception {
        PrepareSpec spec = rangedJsonLines(1200);
        spec.testFraction = 0.2;
        List<PrepareTask> tasks = PrepareTask.plan(spec);
        assertTrue(tasks.size() >= 8, "ranges: " + tasks);
        Path stored = work.resolve("parts");
        try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
            for (PrepareTask task : tasks) {
                DatasetPreparer.map(spec, task, tokenizer).write(Files.createDirectories(PartResults.dirOf(stored, task)));
            }
        }
        List<java.lang.ref.WeakReference<PartResult>> given = new ArrayList<>();
        int[] mostHeld = {0};
        PartResults counting = task -> {
            System.gc();
            mostHeld[0] = Math.max(mostHeld[0], (int) given.stream().filter(ref -> ref.get() != null).count());
            PartResult part = PartResult.read(PartResults.dirOf(stored, task), task);
            given.add(new java.lang.ref.WeakReference<>(part));
            return part;
        };
        spec.outputDir = work.resolve("out");
        new DatasetPreparer(FIXED_CLOCK).reduce(spec, tasks, counting);

        assertEquals(2 * tasks.size(), given.size(), "each result read twice");
        assertTrue(mostHeld[0] <= 1, "results still held when the next was read: " + mostHeld[0] + " of " + tasks.size());
        assertSameDataset(oneProcess(spec, "one-process"), spec.outputDir);
    }

    /** A result whose rows differ between the reduce's two reads (replaced meanwhile by other rows) stops it; nothing is written. */
    @Test
    void aMapResultThatChangesBetweenTheReducesTwoReadsStopsIt() throws Exception {
        PrepareSpec spec = rangedJsonLines(400);
        List<PrepareTask> tasks = PrepareTask.plan(spec);
        Map<PrepareTask, Integer> reads = new java.util.HashMap<>();
        PartResults changing = task -> {
            try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
                PartResult part = DatasetPreparer.map(spec, task, tokenizer);
                if (reads.merge(task, 1, Integer::sum) == 2 && task.equals(tasks.get(1))) {
                    part.examples.remove(3);
                }
                return part;
            }
        };
        spec.outputDir = work.resolve("out");
        DatasetException error = assertThrows(DatasetException.class, () -> new DatasetPreparer().reduce(spec, tasks, changing));
        assertTrue(error.getMessage().startsWith("a map result changed while the reduce read it ("), error.getMessage());
        assertTrue(error.getMessage().endsWith("run the prepare again"), error.getMessage());
        assertTrue(Files.notExists(spec.outputDir.resolve(Manifest.FILE)));
    }
}
