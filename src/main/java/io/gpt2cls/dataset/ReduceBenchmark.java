package io.gpt2cls.dataset;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

import io.gpt2cls.runtime.Directories;

/**
 * The reduce of {@code prepare} at a size this machine cannot tokenize in a session (see
 * bench/prepare-reduce.sh): ROWS rows of synthetic map results (random token ids, review-like lengths,
 * 2 % repeated texts, two labels) in TASKS results on disk, as the engine's map tasks leave them; then the
 * reduce alone, timed, with its heap peak. Run it with a small {@code -Xmx} to see that the reduce's
 * memory does not grow with the rows' tokens. Prints one JSON line.
 *
 * <p>Usage: {@code ReduceBenchmark TOKENIZER WORK ROWS TASKS}
 */
public final class ReduceBenchmark {

    private ReduceBenchmark() {}

    public static void main(String[] args) throws IOException {
        if (args.length != 4) {
            System.err.println("usage: ReduceBenchmark TOKENIZER WORK ROWS TASKS");
            System.exit(2);
        }
        Path work = Files.createDirectories(Path.of(args[1]));
        long rows = Long.parseLong(args[2]);
        int taskCount = Integer.parseInt(args[3]);
        PrepareSpec spec = new PrepareSpec();
        spec.tokenizer = Path.of(args[0]);
        spec.maxLength = 256;
        spec.testFraction = 0.1;
        List<InputFile> files = new ArrayList<>();
        for (int t = 0; t < taskCount; t++) {
            files.add(new InputFile(work.resolve("absent"), String.format("s3://bucket/reviews/part-%05d.jsonl", t)));
        }
        spec.trainFiles = files;
        spec.trainLocation = "s3://bucket/reviews/";

        Path results = work.resolve("results");
        Directories.deleteTree(results);
        List<PrepareTask> tasks = new ArrayList<>();
        long tokens = 0;
        long written = System.nanoTime();
        SplittableRandom random = new SplittableRandom(1);
        List<TextKey> recent = new ArrayList<>();
        for (int t = 0; t < taskCount; t++) {
            PrepareTask task = PrepareTask.whole(Manifest.TRAIN, t, files.get(t));
            PartResult part = new PartResult(task);
            long taskRows = rows / taskCount + (t < rows % taskCount ? 1 : 0);
            part.sha256 = "0".repeat(64);
            part.rowsRead = taskRows;
            part.positions = taskRows;
            part.columns.addAll(List.of("text", "label"));
            for (long r = 1; r <= taskRows; r++) {
                int textTokens = 20 + random.nextInt(380);
                int[] ids = new int[Math.min(textTokens, spec.maxLength)];
                for (int i = 0; i < ids.length; i++) {
                    ids[i] = random.nextInt(50257);
                }
                // 2 % of the rows repeat a recent text, as scraped reviews do
                TextKey text = random.nextInt(50) == 0 && !recent.isEmpty() ? recent.get(random.nextInt(recent.size()))
                        : new TextKey(random.nextLong(), random.nextLong());
                if (recent.size() < 1000) {
                    recent.add(text);
                } else {
                    recent.set(random.nextInt(1000), text);
                }
                part.examples.add(new Example(RowLocation.ofLine(files.get(t).location(), r), Integer.toString(random.nextInt(2)),
                        ids, textTokens, text, "a synthetic review"));
                tokens += ids.length;
            }
            part.write(Files.createDirectories(PartResults.dirOf(results, task)));
            tasks.add(task);
        }
        double writeSeconds = (System.nanoTime() - written) / 1e9;

        spec.outputDir = work.resolve("out");
        TimedReduce reduce = TimedReduce.of(spec, tasks, results);
        PrepareSummary summary = reduce.summary();
        double seconds = reduce.seconds();
        long heapPeak = reduce.heapPeakBytes();
        long shardBytes = summary.splits().values().stream().flatMap(split -> split.shards().stream())
                .mapToLong(Manifest.Shard::bytes).sum();
        Directories.deleteTree(results);
        Directories.deleteTree(spec.outputDir);
        System.out.println(String.format(Locale.ROOT, "{\"rows\": %d, \"tasks\": %d, \"kept_tokens\": %d, \"shard_mb\": %.0f,"
                        + " \"max_heap_mb\": %.0f, \"results_written_s\": %.1f, \"reduce_seconds\": %.1f, \"reduce_rows_per_s\": %.0f,"
                        + " \"reduce_us_per_row\": %.2f, \"reduce_heap_peak_mb\": %.0f, \"train\": %d, \"test\": %d, \"duplicates\": %d}",
                rows, taskCount, tokens, shardBytes / 1048576.0, Runtime.getRuntime().maxMemory() / 1048576.0, writeSeconds,
                seconds, rows / seconds, seconds * 1e6 / rows, heapPeak / 1048576.0, summary.split(Manifest.TRAIN).rows(),
                summary.split(Manifest.TEST).rows(), summary.split(Manifest.TRAIN).duplicates()));
    }

    /** The reduce alone, timed, with the heap pools' peak during it (garbage included: an upper bound of what it holds). */
    record TimedReduce(PrepareSummary summary, double seconds, long heapPeakBytes) {

        /** Reduces the results {@code tasks} left in {@code results} into a cleared {@code spec.outputDir}. */
        static TimedReduce of(PrepareSpec spec, List<PrepareTask> tasks, Path results) throws IOException {
            Directories.deleteTree(spec.outputDir);
            System.gc();
            List<MemoryPoolMXBean> heap = ManagementFactory.getMemoryPoolMXBeans().stream()
                    .filter(pool -> pool.getType() == MemoryType.HEAP).toList();
            heap.forEach(MemoryPoolMXBean::resetPeakUsage);
            long started = System.nanoTime();
            PrepareSummary summary = new DatasetPreparer().reduce(spec, tasks, PartResults.in(results));
            return new TimedReduce(summary, (System.nanoTime() - started) / 1e9,
                    heap.stream().mapToLong(pool -> pool.getPeakUsage().getUsed()).sum());
        }
    }
}
