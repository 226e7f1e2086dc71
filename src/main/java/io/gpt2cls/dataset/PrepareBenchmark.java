package io.gpt2cls.dataset;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * {@code prepare} throughput against the tokenizer alone, in one JVM (see bench/prepare-throughput.sh):
 * the raw batch-encode rate of the same tokenizer on the same texts (before and after, averaged, since
 * the machine is shared), one end-to-end prepare, and the parts of prepare that are not tokenizing
 * (loading the tokenizer, reading and parsing, text keys, source checksums), each timed alone; the log
 * has prepare's own phases (reading + tokenizing per input, then shards and manifest). Prints one JSON object. On a
 * shared machine wall time swings with other load; the ratio of CPU seconds is steadier.
 *
 * <p>Usage: {@code PrepareBenchmark TOKENIZER OUT_DIR MAX_LENGTH TRAIN [TEST]}
 */
public final class PrepareBenchmark {

    private record Timed(double seconds, double cpuSeconds) {
        double cores() {
            return cpuSeconds / seconds;
        }
    }

    private PrepareBenchmark() {}

    public static void main(String[] args) throws IOException {
        if (args.length < 4) {
            System.err.println("usage: PrepareBenchmark TOKENIZER OUT_DIR MAX_LENGTH TRAIN [TEST]");
            System.exit(2);
        }
        Path tokenizerFile = Path.of(args[0]);
        Path out = Path.of(args[1]);
        int maxLength = Integer.parseInt(args[2]);
        List<InputFile> train = List.of(InputFile.local(Path.of(args[3])));
        List<InputFile> test = args.length > 4 ? List.of(InputFile.local(Path.of(args[4]))) : List.of();
        List<InputFile> all = new ArrayList<>(train);
        all.addAll(test);
        long inputBytes = 0;
        for (InputFile file : all) {
            inputBytes += Files.size(file.path());
        }

        List<String> texts = new ArrayList<>();
        Timed reading = time(() -> texts.addAll(readTexts(all)));
        long textBytes = texts.stream().mapToLong(text -> text.getBytes(StandardCharsets.UTF_8).length).sum();

        long[] tokens = new long[1];
        Timed rawBefore;
        Timed rawAfter;
        Timed prepare;
        Timed keys;
        Timed sha;
        Timed load = time(() -> TextTokenizer.load(tokenizerFile).close());
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerFile)) {
            time(() -> encode(tokenizer, texts.subList(0, Math.min(2048, texts.size())))); // warm-up
            rawBefore = time(() -> tokens[0] = encode(tokenizer, texts));
            PrepareSpec spec = new PrepareSpec();
            spec.trainFiles = train;
            spec.testFiles = test;
            spec.tokenizer = tokenizerFile;
            spec.outputDir = out;
            spec.maxLength = maxLength;
            prepare = time(() -> new DatasetPreparer().prepare(spec));
            rawAfter = time(() -> encode(tokenizer, texts));
        }
        keys = time(() -> {
            MessageDigest digest = TextKey.sha256();
            texts.forEach(text -> TextKey.of(text, digest));
        });
        sha = time(() -> {
            for (InputFile file : all) {
                new SourceFile(file, Manifest.TRAIN).toManifest();
            }
        });

        double rawSeconds = (rawBefore.seconds() + rawAfter.seconds()) / 2;
        double rawCpu = (rawBefore.cpuSeconds() + rawAfter.cpuSeconds()) / 2;
        System.out.println(String.format(Locale.ROOT, """
                {"cores": %d, "rows": %d, "input_mb": %.1f, "text_mb": %.1f, "tokens": %d,
                 "raw_encode": {"seconds_before": %.2f, "seconds_after": %.2f, "tokens_per_s": %.0f, "text_mb_per_s": %.2f, "cpu_s": %.1f, "cores_busy": %.2f},
                 "prepare": {"seconds": %.2f, "tokens_per_s": %.0f, "input_mb_per_s": %.2f, "cpu_s": %.1f, "cores_busy": %.2f},
                 "ratio_prepare_to_raw": %.3f, "ratio_by_cpu_time": %.3f,
                 "alone": {"tokenizer_load_s": %.2f, "read_and_parse_s": %.2f, "text_keys_s": %.2f, "source_sha256_s": %.2f}}""",
                Runtime.getRuntime().availableProcessors(), texts.size(), inputBytes / 1e6, textBytes / 1e6, tokens[0],
                rawBefore.seconds(), rawAfter.seconds(), tokens[0] / rawSeconds, textBytes / 1e6 / rawSeconds,
                rawCpu, (rawBefore.cores() + rawAfter.cores()) / 2,
                prepare.seconds(), tokens[0] / prepare.seconds(), inputBytes / 1e6 / prepare.seconds(), prepare.cpuSeconds(),
                prepare.cores(), rawSeconds / prepare.seconds(), rawCpu / prepare.cpuSeconds(),
                load.seconds(), reading.seconds(), keys.seconds(), sha.seconds()));
    }

    /** Every row's text column, read and parsed as prepare reads it (no validation, no tokenizing). */
    private static List<String> readTexts(List<InputFile> files) throws IOException {
        List<String> texts = new ArrayList<>();
        for (InputFile file : files) {
            try (RowReader reader = RowReader.open(file, List.of("text", "label"))) {
                for (SourceRow row = reader.next(); row != null; row = reader.next()) {
                    if (row.value() != null && row.value().path("text").isTextual()) {
                        texts.add(row.value().path("text").textValue());
                    }
                }
            }
        }
        return texts;
    }

    /** Tokenizes in prepare's chunk size, one batch call after another: the tokenizer alone. */
    private static long encode(TextTokenizer tokenizer, List<String> texts) {
        long tokens = 0;
        for (int start = 0; start < texts.size(); start += ChunkTokenizer.CHUNK_ROWS) {
            for (int[] ids : tokenizer.encodeAll(texts.subList(start, Math.min(start + ChunkTokenizer.CHUNK_ROWS, texts.size())))) {
                tokens += ids.length;
            }
        }
        return tokens;
    }

    private interface Work {
        void run() throws IOException;
    }

    private static Timed time(Work work) throws IOException {
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu = os.getProcessCpuTime();
        long start = System.nanoTime();
        work.run();
        return new Timed((System.nanoTime() - start) / 1e9, (os.getProcessCpuTime() - cpu) / 1e9);
    }
}
