package io.gpt2cls.dataset;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.stream.Stream;

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
import org.apache.parquet.schema.MessageTypeParser;

import io.gpt2cls.runtime.Directories;
import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * Map/reduce {@code prepare} throughput (see bench/prepare-mapreduce.sh): rows/s of {@link DatasetPreparer#prepare}
 * with 1, 2 and 4 workers on a generated JSON Lines file (cut into byte-range tasks) and on Parquet part
 * files (a task each), each run's map tasks timed alone (the per-task rate a Lambda would see, on this
 * machine) and the reduce timed alone. Prints one JSON line per run.
 *
 * <p>Usage: {@code MapReduceBenchmark TOKENIZER WORK JSONL_MB PARQUET_PARTS ROWS_PER_PART TASK_MB WORKERS...}
 */
public final class MapReduceBenchmark {

    private static final String[] WORDS = ("the service was slow and the food cold but the staff were kind and the price fair "
            + "great product arrived broken refund took weeks would not buy again excellent value five stars battery "
            + "lasts all day screen cracked after a week customer support never answered shipping fast packaging good").split(" ");

    private MapReduceBenchmark() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 7) {
            System.err.println("usage: MapReduceBenchmark TOKENIZER WORK JSONL_MB PARQUET_PARTS ROWS_PER_PART TASK_MB WORKERS...");
            System.exit(2);
        }
        Path tokenizer = Path.of(args[0]);
        Path work = Files.createDirectories(Path.of(args[1]));
        long jsonlBytes = Long.parseLong(args[2]) << 20;
        int parts = Integer.parseInt(args[3]);
        int rowsPerPart = Integer.parseInt(args[4]);
        long taskBytes = Long.parseLong(args[5]) << 20;
        Path jsonl = work.resolve("reviews.jsonl");
        if (!Files.exists(jsonl) || Files.size(jsonl) < jsonlBytes) {
            writeJsonLines(jsonl, jsonlBytes);
        }
        Path parquet = work.resolve("parquet");
        if (!Files.isDirectory(parquet) || Files.list(parquet).count() != parts) {
            writeParquetParts(parquet, parts, rowsPerPart);
        }
        List<InputFile> parquetFiles;
        try (Stream<Path> files = Files.list(parquet)) {
            parquetFiles = files.sorted().map(InputFile::local).toList();
        }
        for (int i = 6; i < args.length; i++) {
            int workers = Integer.parseInt(args[i]);
            run("jsonl", List.of(InputFile.local(jsonl)), tokenizer, work, workers, taskBytes);
            run("parquet", parquetFiles, tokenizer, work, workers, taskBytes);
        }
    }

    private static void run(String name, List<InputFile> files, Path tokenizer, Path work, int workers, long taskBytes)
            throws IOException {
        PrepareSpec spec = new PrepareSpec();
        spec.trainFiles = files;
        spec.tokenizer = tokenizer;
        spec.maxLength = 256;
        spec.workers = workers;
        spec.taskBytes = taskBytes;
        spec.outputDir = work.resolve("out-" + name + "-" + workers);
        Directories.deleteTree(spec.outputDir);
        long inputBytes = 0;
        for (InputFile file : files) {
            inputBytes += Files.size(file.path());
        }
        int tasks = PrepareTask.plan(spec).size();
        long started = System.nanoTime();
        PrepareSummary summary = new DatasetPreparer().prepare(spec);
        double seconds = (System.nanoTime() - started) / 1e9;
        String prepared = String.format(Locale.ROOT, "{\"input\": \"%s\", \"workers\": %d, \"tasks\": %d, \"input_mb\": %.1f,"
                        + " \"rows\": %d, \"seconds\": %.2f, \"rows_per_s\": %.0f, \"mb_per_s\": %.2f",
                name, workers, tasks, inputBytes / 1048576.0, summary.rowsRead(), seconds, summary.rowsRead() / seconds,
                inputBytes / 1048576.0 / seconds);
        if ("no".equals(System.getenv("IN_TURN"))) { // the prepare alone: the 2 GB takes ~15 min a pass on 2 vCPUs
            System.out.println(prepared + "}");
            return;
        }

        // the tasks once more, one at a time, their results on disk (as the engine's map tasks store them); then the reduce alone
        List<PrepareTask> planned = PrepareTask.plan(spec);
        Path results = work.resolve("parts-" + name);
        Directories.deleteTree(results);
        double taskSeconds = 0;
        try (TextTokenizer loaded = DatasetPreparer.loadTokenizer(spec)) {
            for (PrepareTask task : planned) {
                PartResult part = DatasetPreparer.map(spec, task, loaded);
                taskSeconds += part.seconds;
                part.write(Files.createDirectories(PartResults.dirOf(results, task)));
            }
        }
        spec.outputDir = work.resolve("out-" + name + "-" + workers + "-reduce");
        ReduceBenchmark.TimedReduce reduce = ReduceBenchmark.TimedReduce.of(spec, planned, results);
        double reduceSeconds = reduce.seconds();
        long reduceHeapPeak = reduce.heapPeakBytes();
        Directories.deleteTree(results);
        System.out.println(prepared + String.format(Locale.ROOT, ", \"task_seconds_in_turn\": %.2f, \"mean_task_seconds\": %.3f,"
                + " \"reduce_seconds\": %.2f, \"reduce_heap_peak_mb\": %.0f}", taskSeconds, taskSeconds / tasks, reduceSeconds,
                reduceHeapPeak / 1048576.0));
    }

    private static String review(Random random) {
        StringBuilder text = new StringBuilder();
        for (int w = 20 + random.nextInt(180); w > 0; w--) {
            text.append(WORDS[random.nextInt(WORDS.length)]).append(' ');
        }
        return text.toString().trim();
    }

    private static void writeJsonLines(Path file, long bytes) throws IOException {
        Random random = new Random(1);
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (long written = 0; written < bytes; ) {
                String line = "{\"text\": \"" + review(random) + "\", \"label\": " + random.nextInt(2) + "}\n";
                out.write(line);
                written += line.length();
            }
        }
    }

    private static void writeParquetParts(Path dir, int parts, int rowsPerPart) throws IOException {
        Directories.deleteTree(dir);
        Files.createDirectories(dir);
        MessageType schema = MessageTypeParser.parseMessageType("message row { optional binary text (STRING); optional int64 label; }");
        SimpleGroupFactory groups = new SimpleGroupFactory(schema);
        Random random = new Random(2);
        for (int p = 0; p < parts; p++) {
            try (ParquetWriter<Group> writer = ExampleParquetWriter.builder(new LocalOutputFile(dir.resolve(String.format("part-%05d.parquet", p))))
                    .withType(schema).withConf(new PlainParquetConfiguration()).withCodecFactory(new Uncompressed())
                    .withCompressionCodec(CompressionCodecName.UNCOMPRESSED).build()) {
                for (int r = 0; r < rowsPerPart; r++) {
                    writer.write(groups.newGroup().append("text", review(random)).append("label", (long) random.nextInt(2)));
                }
            }
        }
    }

    /** The writer's codec factory for uncompressed pages (the product's ParquetCodecs only decompresses). */
    private static final class Uncompressed implements CompressionCodecFactory {
        @Override
        public BytesInputCompressor getCompressor(CompressionCodecName codec) {
            return new BytesInputCompressor() {
                @Override
                public BytesInput compress(BytesInput bytes) {
                    return bytes;
                }

                @Override
                public CompressionCodecName getCodecName() {
                    return CompressionCodecName.UNCOMPRESSED;
                }

                @Override
                public void release() {
                    // nothing pooled
                }
            };
        }

        @Override
        public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
            return new ParquetCodecs().getDecompressor(codec);
        }

        @Override
        public void release() {
            // nothing pooled
        }
    }
}
