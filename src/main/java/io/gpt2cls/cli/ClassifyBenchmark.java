package io.gpt2cls.cli;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.TokenBatch;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.runtime.ResidentMemory;
import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * {@code bench-classify} and {@code soak-classify}: classify's latency, throughput and memory, each
 * number next to a limit measured in the same process, so runs on a shared machine compare by ratio.
 *
 * <ul>
 *   <li>The function path: a Lambda event in (read as the runtime reads it), the classify function,
 *       the JSON answer out; the model is loaded by the first (warm-up) request.</li>
 *   <li>The bare forward: the model's probabilities for a ready token batch, nothing around it.</li>
 *   <li>The FLOP limit: the forward's floating-point operations divided by this machine's fp32
 *       matrix-product peak, measured with large matMuls before and after the requests.</li>
 * </ul>
 */
final class ClassifyBenchmark {

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Words GPT-2's tokenizer reads as one token each, space included: a text of n words is n tokens. */
    private static final List<String> WORDS = List.of("the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with",
            "as", "at", "by", "it", "from", "he", "she", "we", "they", "this", "be", "are", "or", "an", "not", "his", "her", "but", "had");
    /** The peak is taken on square matrices this large: big enough for the library's best kernel, quick enough to repeat. */
    private static final int PEAK_SIZE = 2048;

    private ClassifyBenchmark() {}

    /**
     * Latency percentiles of {@code requests} requests of {@code batch} texts of {@code seq} tokens
     * (after {@code warmup} more), sent by {@code clients} threads at once, then of the bare forward.
     *
     * @param packProducts whether the bare forward's model is packed for serving, as the function's is
     *                     ({@code gpt2cls.classify.packed-products})
     * @param function the function path: an event's JSON in, the answer's JSON out
     */
    static Map<String, Object> latency(Path modelDir, String shape, int batch, int seq, int requests, int warmup, int clients,
                                       boolean packProducts, UnaryOperator<String> function) throws IOException {
        NativeRuntime.init();
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", shape);
        result.put("batch", batch);
        result.put("seq", seq);
        result.put("requests", requests);
        result.put("clients", clients);
        double peakBefore = matmulGflops();

        List<String> texts = texts(modelDir, batch, seq, new Random(7));
        String event = JSON.writeValueAsString(Map.of("texts", texts, "model", modelDir.toString()));
        for (int i = 0; i < warmup; i++) {
            answer(function, event);
        }
        long start = System.nanoTime();
        long cpuStart = processCpuNanos();
        double[] latencies = concurrently(clients, requests, () -> answer(function, event));
        double cpuMsPerRequest = (processCpuNanos() - cpuStart) / 1e6 / requests;
        double seconds = (System.nanoTime() - start) / 1e9;

        long forwardCpuStart = processCpuNanos();
        BareForward forward = clients == 1 ? bareForward(modelDir, batch, seq, requests, warmup, packProducts) : null;
        double forwardCpuMs = (processCpuNanos() - forwardCpuStart) / 1e6 / (requests + warmup);
        double peakAfter = matmulGflops();
        double peak = Math.max(peakBefore, peakAfter);

        Gpt2Config config = Gpt2Config.read(modelDir.resolve(ModelCheckpoint.CONFIG_FILE));
        double flops = forwardFlops(config, batch, seq);
        double limitMs = flops / (peak * 1e9) * 1e3;
        result.put("threads", JniUtils.getNumThreads());
        result.put("matmul_gflops", round(peak));
        result.put("matmul_gflops_before_after", List.of(round(peakBefore), round(peakAfter)));
        result.put("forward_gflop", round(flops / 1e9));
        result.put("executed_gflop", round(pooledForwardFlops(config, batch, seq) / 1e9));
        result.put("flop_limit_ms", round(limitMs));
        putPercentiles(result, "", latencies);
        result.put("p50_over_flop_limit", round(percentile(latencies, 0.5) / limitMs));
        result.put("texts_per_s", round(batch * requests / seconds));
        result.put("cpu_ms_per_request", round(cpuMsPerRequest));
        if (forward != null) {
            result.put("forward_products_packed", forward.productsPacked());
            putPercentiles(result, "forward_", forward.latencies());
            result.put("forward_p50_over_flop_limit", round(percentile(forward.latencies(), 0.5) / limitMs));
            result.put("forward_cpu_ms", round(forwardCpuMs));
        }
        result.put("rss_mb", orMinusOne(ResidentMemory.megabytes()));
        result.put("peak_rss_mb", orMinusOne(ResidentMemory.peakMegabytes()));
        return result;
    }

    /**
     * Memory over a long run: {@code requests} requests of 1 to 8 texts of mixed lengths (mostly
     * short, some up to {@code maxSeq} tokens), every {@code badEvery}-th one malformed. RSS is read
     * every 250 requests; the first tenth is warm-up. A fixed probe request, timed every 50 requests,
     * shows whether latency changes over the run (and after bad input).
     */
    static Map<String, Object> soak(Path modelDir, String shape, int requests, int maxSeq, int badEvery, UnaryOperator<String> function)
            throws IOException {
        NativeRuntime.init();
        Random random = new Random(11);
        List<String> bad = List.of("{\"text\": \"\"}", "{\"texts\": [\"ok\", 5]}", "[{\"text\": \"a list\"}]", "null", "{\"text\": \"a\"",
                "{\"text\": \"" + "\u00e9".repeat(60_000) + "\"}", JSON.writeValueAsString(Map.of("texts", Collections.nCopies(65, "too many"))), "{\"text\": \"x\", \"top_k\": 0}", "{\"txt\": \"typo\"}");
        String probe = JSON.writeValueAsString(Map.of("texts", texts(modelDir, 1, 32, new Random(5)), "model", modelDir.toString()));
        answer(function, probe); // loads the model
        int warmup = requests / 10;
        List<Double> probes = new ArrayList<>();
        List<Map<String, Object>> rss = new ArrayList<>();
        int badSent = 0;
        long start = System.nanoTime();
        for (int i = 1; i <= requests; i++) {
            if (badEvery > 0 && i % badEvery == 0) {
                String answer = function.apply(bad.get(badSent++ % bad.size()));
                if (!answer.contains("\"invalid_request\"")) {
                    throw new IllegalStateException("a malformed request got " + answer);
                }
            } else {
                int texts = random.nextDouble() < 0.7 ? 1 : 1 + random.nextInt(8);
                answer(function, JSON.writeValueAsString(Map.of("texts", mixedTexts(texts, maxSeq, random),
                        "model", modelDir.toString())));
            }
            if (i % 50 == 0) {
                long probeStart = System.nanoTime();
                answer(function, probe);
                probes.add((System.nanoTime() - probeStart) / 1e6);
            }
            if (i % 250 == 0) {
                Map<String, Object> sample = new LinkedHashMap<>();
                sample.put("requests", i);
                sample.put("rss_mb", orMinusOne(ResidentMemory.megabytes()));
                // The Java heap grows to its ergonomic size over the first thousands of requests; its
                // committed size beside RSS tells that growth from native memory's.
                sample.put("heap_committed_mb", Runtime.getRuntime().totalMemory() >> 20);
                rss.add(sample);
                System.err.printf("soak: %d requests, RSS %s MB (Java heap %s MB), probe %.1f ms, %.0f s%n", i, sample.get("rss_mb"),
                        sample.get("heap_committed_mb"), probes.get(probes.size() - 1), (System.nanoTime() - start) / 1e9);
            }
        }
        Map<String, Object> result = new LinkedHashMap<>();
        result.put("model", shape);
        result.put("requests", requests);
        result.put("malformed_requests", badSent);
        result.put("max_seq", maxSeq);
        result.put("seconds", round((System.nanoTime() - start) / 1e9));
        long afterWarmup = rssAt(rss, warmup);
        long end = (long) rss.get(rss.size() - 1).get("rss_mb");
        result.put("rss_mb_after_warmup", afterWarmup);
        result.put("rss_mb_end", end);
        result.put("rss_mb_max", rss.stream().mapToLong(s -> (long) s.get("rss_mb")).max().orElse(0));
        result.put("rss_growth_pct", round(100.0 * (end - afterWarmup) / afterWarmup));
        result.put("peak_rss_mb", orMinusOne(ResidentMemory.peakMegabytes()));
        int window = Math.max(1, probes.size() / 10);
        double[] first = probes.subList(probes.size() / 10, probes.size() / 10 + window).stream().mapToDouble(d -> d).toArray();
        double[] last = probes.subList(probes.size() - window, probes.size()).stream().mapToDouble(d -> d).toArray();
        result.put("probe_p50_ms_after_warmup", round(percentile(first, 0.5)));
        result.put("probe_p50_ms_end", round(percentile(last, 0.5)));
        result.put("rss_samples", rss);
        return result;
    }

    private static long rssAt(List<Map<String, Object>> samples, int requests) {
        return samples.stream().filter(s -> (int) s.get("requests") >= requests).findFirst().map(s -> (long) s.get("rss_mb"))
                .orElse((long) samples.get(0).get("rss_mb"));
    }

    /** Runs the answer path and fails loudly on an error answer: a benchmark of errors measures nothing. */
    private static void answer(UnaryOperator<String> function, String event) {
        String answer = function.apply(event);
        if (answer.startsWith("{\"error\"")) {
            throw new IllegalStateException("the benchmark request failed: " + answer);
        }
    }

    /** {@code requests} calls of {@code work} spread over {@code clients} threads; each call's milliseconds. */
    private static double[] concurrently(int clients, int requests, Runnable work) {
        double[] latencies = new double[requests];
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int client = 0; client < clients; client++) {
                int first = client;
                running.add(pool.submit(() -> {
                    for (int i = first; i < requests; i += clients) {
                        long start = System.nanoTime();
                        work.run();
                        latencies[i] = (System.nanoTime() - start) / 1e6;
                    }
                }));
            }
            for (Future<?> client : running) {
                client.get();
            }
        } catch (ExecutionException e) {
            throw e.getCause() instanceof RuntimeException failure ? failure : new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            pool.shutdownNow();
        }
        return latencies;
    }

    /** The bare forward's latencies in milliseconds, and whether its model's products were packed as asked. */
    private record BareForward(double[] latencies, boolean productsPacked) {}

    /** The model's probabilities for a ready batch of random ids: the forward and nothing around it. */
    private static BareForward bareForward(Path modelDir, int batch, int seq, int requests, int warmup, boolean packProducts)
            throws IOException {
        NativeRuntime.noGradOnThisThread();
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = ModelCheckpoint.load(modelDir, root)) {
            boolean packed = packProducts && model.packForServing();
            Random random = new Random(3);
            int[] ids = new int[batch * seq];
            int[] mask = new int[batch * seq];
            for (int i = 0; i < ids.length; i++) {
                ids[i] = random.nextInt(model.config.vocab_size - 1);
                mask[i] = 1;
            }
            TokenBatch tokens = new TokenBatch(ids, mask, batch, seq);
            double[] latencies = new double[requests];
            for (int i = -warmup; i < requests; i++) {
                long start = System.nanoTime();
                try (NDManager step = root.newSubManager()) {
                    model.probabilities(tokens, step);
                }
                if (i >= 0) {
                    latencies[i] = (System.nanoTime() - start) / 1e6;
                }
            }
            return new BareForward(latencies, packed);
        }
    }

    /** The best of several {@value #PEAK_SIZE}-square fp32 matMuls, in GFLOP/s. */
    static double matmulGflops() {
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray a = manager.randomNormal(new Shape(PEAK_SIZE, PEAK_SIZE));
            NDArray b = manager.randomNormal(new Shape(PEAK_SIZE, PEAK_SIZE));
            double best = Double.MAX_VALUE;
            for (int i = 0; i < 7; i++) {
                long start = System.nanoTime();
                a.matMul(b).close();
                double seconds = (System.nanoTime() - start) / 1e9;
                best = i < 2 ? best : Math.min(best, seconds); // two warm-ups
            }
            return 2.0 * PEAK_SIZE * PEAK_SIZE * PEAK_SIZE / best / 1e9;
        }
    }

    /**
     * Floating-point operations of the standard forward: per layer 24 N C^2 for the four matrix
     * products (qkv 6, proj 2, MLP 16; N = batch x seq tokens) and 4 B T^2 C for attention's two
     * (scores and the weighted sum, over all heads, as computed: the causal half is masked, not skipped).
     */
    static double forwardFlops(Gpt2Config config, int batch, int seq) {
        return config.n_layer * layerFlops(config, batch, seq) + headFlops(config, batch);
    }

    /**
     * What {@link Gpt2ForSequenceClassification#pooledLogits} computes: the last block's qkv for
     * every token (6 N C^2), its attention and the rest (proj, MLP: 18 C^2) for one query per row.
     */
    static double pooledForwardFlops(Gpt2Config config, int batch, int seq) {
        double c = config.n_embd;
        double lastLayer = 6.0 * batch * seq * c * c + 4.0 * batch * seq * c + 18.0 * batch * c * c;
        return (config.n_layer - 1) * layerFlops(config, batch, seq) + lastLayer + headFlops(config, batch);
    }

    private static double layerFlops(Gpt2Config config, int batch, int seq) {
        double c = config.n_embd;
        return 24.0 * batch * seq * c * c + 4.0 * batch * seq * seq * c;
    }

    private static double headFlops(Gpt2Config config, int batch) {
        return 2.0 * batch * config.n_embd * config.numLabels();
    }

    /** {@code batch} texts of exactly {@code seq} tokens each (checked with the model's tokenizer). */
    static List<String> texts(Path modelDir, int batch, int seq, Random random) throws IOException {
        List<String> texts = new ArrayList<>();
        try (TextTokenizer tokenizer = TextTokenizer.load(modelDir)) {
            for (int i = 0; i < batch; i++) {
                String text = words(seq, random);
                int tokens = tokenizer.encode(text).length;
                if (tokens != seq) {
                    throw new IllegalStateException("a benchmark text of " + seq + " words is " + tokens + " tokens with "
                            + tokenizer.file() + "; the benchmark needs GPT-2's tokenizer");
                }
                texts.add(text);
            }
        }
        return texts;
    }

    /** Texts whose lengths mix as a service's might: 60% up to 32 tokens, 30% up to 128, the rest up to {@code maxSeq}. */
    private static List<String> mixedTexts(int count, int maxSeq, Random random) {
        List<String> texts = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            double p = random.nextDouble();
            int upTo = p < 0.6 ? 32 : p < 0.9 ? 128 : maxSeq;
            texts.add(words(1 + random.nextInt(Math.min(upTo, maxSeq)), random));
        }
        return texts;
    }

    private static String words(int count, Random random) {
        StringBuilder text = new StringBuilder();
        for (int w = 0; w < count; w++) {
            text.append(w == 0 ? "" : " ").append(WORDS.get(random.nextInt(WORDS.size())));
        }
        return text.toString();
    }

    private static void putPercentiles(Map<String, Object> result, String prefix, double[] millis) {
        result.put(prefix + "p50_ms", round(percentile(millis, 0.5)));
        result.put(prefix + "p90_ms", round(percentile(millis, 0.9)));
        result.put(prefix + "p99_ms", round(percentile(millis, 0.99)));
        result.put(prefix + "mean_ms", round(Arrays.stream(millis).average().orElse(0)));
    }

    /** Nearest rank. */
    static double percentile(double[] values, double q) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[Math.max(0, (int) Math.ceil(q * sorted.length) - 1)];
    }

    private static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    /**
     * CPU time of the whole process (all threads). On a shared machine a request's wall time grows
     * with the other work; the CPU time it used grows far less, so it compares runs and variants.
     */
    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }

    /** A memory figure in MB for the JSON output; -1 where the platform has none. */
    private static long orMinusOne(Long megabytes) {
        return megabytes == null ? -1 : megabytes;
    }
}
