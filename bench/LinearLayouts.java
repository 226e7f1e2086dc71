import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.core.Linear;

/**
 * Issue 18's fused-linear lead, measured alone: GPT-2's Conv1D (weight [in, out]) three ways, on the shapes of
 * GPT-2 small's c_attn, c_fc and mlp.c_proj at 1 x 64 and 8 x 128 tokens, interleaved round by round, medians
 * of the process's CPU time per call on one intra-op thread:
 *   matmul-add   x.matMul(w).add(b), as before issue 18
 *   linear-view  Linear.linear(x, w.transpose(), b): torch's fused linear on a transposed view (the model's form)
 *   linear-copy  Linear.linear(x, wt, b) with wt a contiguous [out, in] copy made once (what a kept copy would give)
 * If libtorch copied the view on every call, linear-view would be slower than linear-copy by that copy.
 *
 *   javac -d /tmp/bench -cp 'target/lib/*' bench/LinearLayouts.java
 *   java -cp '/tmp/bench:target/lib/*:target/gpt2cls-runner.jar' LinearLayouts [rounds]
 */
public final class LinearLayouts {

    public static void main(String[] args) {
        int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 30;
        // one thread, and CPU time: on a shared machine wall time measures the other jobs; one thread's CPU time
        // is the work (no OpenMP pool that spins or waits)
        System.setProperty("ai.djl.pytorch.num_threads", "1");
        com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean();
        ai.djl.engine.Engine.getInstance(); // loads libtorch
        ai.djl.pytorch.jni.JniUtils.setGradMode(false);
        long[][] shapes = {{64, 768, 2304}, {64, 768, 3072}, {64, 3072, 768}, {1024, 768, 2304}, {1024, 768, 3072}, {1024, 3072, 768}};
        try (NDManager manager = NDManager.newBaseManager()) {
            for (long[] s : shapes) {
                NDArray x = manager.randomNormal(new Shape(1, s[0], s[1]));
                NDArray w = manager.randomNormal(new Shape(s[1], s[2])); // Conv1D's [in, out]
                NDArray b = manager.randomNormal(new Shape(s[2]));
                NDArray wt = manager.randomNormal(new Shape(s[2], s[1])); // a contiguous [out, in] weight (timing only)
                List<Supplier<NDArray>> ways = List.of(
                        () -> x.matMul(w).add(b),
                        () -> Linear.linear(x, w.transpose(), b).singletonOrThrow(),
                        () -> Linear.linear(x, wt, b).singletonOrThrow());
                String[] names = {"matmul-add", "linear-view", "linear-copy"};
                List<List<Double>> ms = new ArrayList<>();
                for (int i = 0; i < ways.size(); i++) {
                    ms.add(new ArrayList<>());
                }
                int calls = s[0] == 64 ? 20 : 3; // per measurement: CPU time is counted in 10 ms ticks here
                for (int round = -1; round < rounds; round++) { // one warm-up round
                    for (int i = 0; i < ways.size(); i++) {
                        try (NDManager call = manager.newSubManager()) {
                            long start = os.getProcessCpuTime();
                            for (int c = 0; c < calls; c++) {
                                NDArray y = ways.get(i).get();
                                y.attach(call);
                                y.toFloatArray(); // waits for the result
                            }
                            if (round >= 0) {
                                ms.get(i).add((os.getProcessCpuTime() - start) / 1e6 / calls);
                            }
                        }
                    }
                }
                double[] median = ms.stream().mapToDouble(LinearLayouts::median).toArray();
                System.out.printf("{\"tokens\": %d, \"in\": %d, \"out\": %d, \"median_cpu_ms_per_call\": {\"%s\": %.3f, \"%s\": %.3f, \"%s\": %.3f},"
                                + " \"linear-view / matmul-add\": %.3f, \"linear-view / linear-copy\": %.3f}%n",
                        s[0], s[1], s[2], names[0], median[0], names[1], median[1], names[2], median[2],
                        median[1] / median[0], median[1] / median[2]);
            }
        }
    }

    private static double median(List<Double> values) {
        double[] sorted = values.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(sorted);
        return sorted[sorted.length / 2];
    }
}
