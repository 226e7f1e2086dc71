package io.gpt2cls.model;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import io.gpt2cls.runtime.NativeRuntime;

/**
 * Where classify's forward spends its time at batch 1 x SEQ (GPT-2 small, random weights), in one process
 * (issue 18): the serving forward ({@link Gpt2ForSequenceClassification#probabilities}) against the same
 * forward's matrix products alone at the same shapes (what the forward could be), interleaved, medians of
 * REPEATS; then libtorch's profiler over one forward: the native ops it ran, how many, and their self time.
 * In the model's package so it can reach the modules.
 *
 *   javac -d /tmp/bench -cp 'target/lib/*:target/gpt2cls-runner.jar' bench/ForwardProfile.java
 *   java -cp '/tmp/bench:target/lib/*:target/gpt2cls-runner.jar' io.gpt2cls.model.ForwardProfile 64 40 [packed]
 *
 * With {@code packed} the model serves as classify's does ({@link Gpt2ForSequenceClassification#packForServing}); its
 * block products then run in MKL outside libtorch, so the profiler's op list is everything but them.
 */
public final class ForwardProfile {

    public static void main(String[] args) throws Exception {
        int seq = Integer.parseInt(args[0]);
        int repeats = Integer.parseInt(args[1]);
        boolean packed = args.length > 2 && args[2].equals("packed");
        NativeRuntime.init();
        NativeRuntime.noGradOnThisThread();
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(
                     ModelPreset.byId("gpt2-small").config(List.of("ham", "spam")), root, 1)) {
            if (packed && !model.packForServing()) {
                throw new IllegalStateException("the model's products could not be packed");
            }
            Random random = new Random(3);
            int[] ids = new int[seq];
            int[] mask = new int[seq];
            for (int i = 0; i < seq; i++) {
                ids[i] = random.nextInt(50000);
                mask[i] = 1;
            }
            TokenBatch batch = new TokenBatch(ids, mask, 1, seq);
            MatMuls matMuls = new MatMuls(model.config, seq, root);
            double[] forward = new double[repeats];
            double[] products = new double[repeats];
            for (int i = -5; i < repeats; i++) {
                boolean forwardFirst = (i & 1) == 0;
                double a = forwardFirst ? time(() -> serve(model, batch, root)) : 0;
                double b = time(() -> matMuls.run(root));
                if (!forwardFirst) {
                    a = time(() -> serve(model, batch, root));
                }
                if (i >= 0) {
                    forward[i] = a;
                    products[i] = b;
                }
            }
            if (packed) {
                double[] packedAlone = new double[repeats];
                for (int i = 0; i < repeats; i++) {
                    packedAlone[i] = time(() -> packedProducts(model, seq, root));
                }
                System.out.printf("the serving forward's packed block products alone: %.1f ms%n", median(packedAlone));
            }
            double f = median(forward);
            double p = median(products);
            double limit = matMuls.flops / peakGflops(root) / 1e6; // ms at the 2048-square matMul's speed
            System.out.printf("1 x %d, %d threads, products %s, medians of %d: serving forward %.1f ms, its matMuls alone %.1f ms, ratio %.2f;"
                    + " FLOP limit %.1f ms: forward / limit %.2f, matMuls alone / limit %.2f%n",
                    seq, JniUtils.getNumThreads(), packed ? "packed" : "plain", repeats, f, p, f / p, limit, f / limit, p / limit);
            opCost(root, 1);
            opCost(root, 64 * 768);
            opCost(root, 64 * 3072);
            profile(model, batch, root);
        }
    }

    /** What one elementwise op costs on {@code size} floats, out of place (a new array, as most of the forward's) and in place. */
    private static void opCost(NDManager root, int size) {
        NDArray a = root.randomNormal(new Shape(size));
        NDArray b = root.randomNormal(new Shape(size));
        int n = 400;
        double[] outOfPlace = new double[9];
        double[] inPlace = new double[9];
        for (int r = 0; r < 9; r++) {
            outOfPlace[r] = time(() -> {
                try (NDManager step = root.newSubManager()) {
                    for (int i = 0; i < n; i++) {
                        a.add(b).attach(step);
                    }
                }
            }) * 1000 / n;
            inPlace[r] = time(() -> {
                for (int i = 0; i < n; i++) {
                    a.addi(b);
                }
            }) * 1000 / n;
        }
        System.out.printf("an add of %d floats: %.1f us (a new array), %.1f us (in place)%n", size, median(outOfPlace), median(inPlace));
    }

    private static void serve(Gpt2ForSequenceClassification model, TokenBatch batch, NDManager root) {
        try (NDManager step = root.newSubManager()) {
            model.probabilities(batch, step);
        }
    }

    /** The serving forward's 48 block products, packed as the model holds them, at their row counts: 11 blocks of seq rows, the last one's c_attn too, its other three of one row. */
    private static void packedProducts(Gpt2ForSequenceClassification model, int seq, NDManager root) {
        int c = model.config.n_embd;
        try (NDManager step = root.newSubManager()) {
            NDArray x = step.zeros(new Shape(1, seq, c));
            NDArray inner = step.zeros(new Shape(1, seq, 4 * c));
            NDArray xRow = step.zeros(new Shape(1, 1, c));
            NDArray innerRow = step.zeros(new Shape(1, 1, 4 * c));
            List<Gpt2ForSequenceClassification.Block> blocks = model.transformer.h;
            for (int layer = 0; layer < blocks.size(); layer++) {
                Gpt2ForSequenceClassification.Block block = blocks.get(layer);
                boolean last = layer == blocks.size() - 1;
                block.attn.c_attn.packed.times(x);
                block.attn.c_proj.packed.times(last ? xRow : x);
                block.mlp.c_fc.packed.times(last ? xRow : x);
                block.mlp.c_proj.packed.times(last ? innerRow : inner);
            }
        }
    }

    /** The serving forward's matrix products at its shapes, nothing else: 11 full blocks, the last one's qkv for all and the rest for one row. */
    private static final class MatMuls {
        final NDArray x, xRow, inner, innerRow, q, k, qRow, w3, w1, w4, w4t;
        final int layers;
        final double flops;

        MatMuls(Gpt2Config config, int seq, NDManager root) {
            int c = config.n_embd;
            int hs = config.headSize();
            double full = 24.0 * seq * c * c + 4.0 * seq * seq * c;
            flops = (config.n_layer - 1) * full + 6.0 * seq * c * c + 4.0 * seq * c + 18.0 * c * c;
            x = root.randomNormal(new Shape(1, seq, c));
            xRow = root.randomNormal(new Shape(1, 1, c));
            inner = root.randomNormal(new Shape(1, seq, 4 * c));
            innerRow = root.randomNormal(new Shape(1, 1, 4 * c));
            q = root.randomNormal(new Shape(1, config.n_head, seq, hs));
            k = root.randomNormal(new Shape(1, config.n_head, hs, seq));
            qRow = root.randomNormal(new Shape(1, config.n_head, 1, hs));
            w3 = root.randomNormal(new Shape(c, 3 * c));
            w1 = root.randomNormal(new Shape(c, c));
            w4 = root.randomNormal(new Shape(c, 4 * c));
            w4t = root.randomNormal(new Shape(4 * c, c));
            layers = config.n_layer;
        }

        void run(NDManager root) {
            try (NDManager step = root.newSubManager()) {
                for (int layer = 0; layer < layers - 1; layer++) {
                    x.matMul(w3).attach(step);
                    NDArray att = q.matMul(k);
                    att.attach(step);
                    att.matMul(q).attach(step); // (nh, T, T) @ (nh, T, hs)
                    x.matMul(w1).attach(step);
                    x.matMul(w4).attach(step);
                    inner.matMul(w4t).attach(step);
                }
                x.matMul(w3).attach(step);
                NDArray att = qRow.matMul(k);
                att.attach(step);
                att.matMul(q).attach(step);
                xRow.matMul(w1).attach(step);
                xRow.matMul(w4).attach(step);
                innerRow.matMul(w4t).attach(step);
            }
        }
    }

    /** libtorch's profiler over one serving forward: op count and self time per op name, from its chrome trace. */
    private static void profile(Gpt2ForSequenceClassification model, TokenBatch batch, NDManager root) throws Exception {
        Path trace = Files.createTempFile("forward-profile", ".json");
        serve(model, batch, root);
        JniUtils.startProfile(false, true, false);
        serve(model, batch, root);
        JniUtils.stopProfile(trace.toString());
        String json = Files.readString(trace);
        Files.delete(trace);
        // {"name": "aten::mm", ..., "ts": 1.0, "dur": 2.0, ...} per op event; top-level ops only by nesting
        Pattern event = Pattern.compile("\"name\":\\s*\"([^\"]+)\"[^{}]*?\"ts\":\\s*([0-9.]+),\\s*\"dur\":\\s*([0-9.]+)");
        Matcher m = event.matcher(json);
        List<double[]> spans = new ArrayList<>();
        List<String> names = new ArrayList<>();
        while (m.find()) {
            names.add(m.group(1));
            spans.add(new double[] {Double.parseDouble(m.group(2)), Double.parseDouble(m.group(3))});
        }
        // top-level: not inside an earlier span
        Map<String, double[]> byName = new TreeMap<>();
        double end = -1;
        double total = 0;
        int topLevel = 0;
        Integer[] order = new Integer[spans.size()];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(spans.get(a)[0], spans.get(b)[0]));
        for (int i : order) {
            double[] s = spans.get(i);
            if (s[0] < end) {
                continue;
            }
            end = s[0] + s[1];
            topLevel++;
            total += s[1];
            double[] agg = byName.computeIfAbsent(names.get(i), n -> new double[2]);
            agg[0]++;
            agg[1] += s[1];
        }
        System.out.printf("profiled forward: %d top-level native ops, %.1f ms inside them%n", topLevel, total / 1000);
        byName.entrySet().stream().sorted((a, b) -> Double.compare(b.getValue()[1], a.getValue()[1]))
                .forEach(e -> System.out.printf("  %-32s %5.0f calls %8.2f ms%n", e.getKey(), e.getValue()[0], e.getValue()[1] / 1000));
    }

    /** The best of 5 (after 2 warm-ups) 2048-square fp32 matMuls, GFLOP/s: bench-classify's peak. */
    private static double peakGflops(NDManager root) {
        int n = 2048;
        NDArray a = root.randomNormal(new Shape(n, n));
        NDArray b = root.randomNormal(new Shape(n, n));
        double best = Double.MAX_VALUE;
        for (int i = 0; i < 7; i++) {
            double ms = time(() -> a.matMul(b).close());
            best = i < 2 ? best : Math.min(best, ms);
        }
        return 2.0 * n * n * n / best / 1e6;
    }

    private static double time(Runnable work) {
        long start = System.nanoTime();
        work.run();
        return (System.nanoTime() - start) / 1e6;
    }

    private static double median(double[] values) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
