import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import io.gpt2cls.runtime.NativeRuntime;

/**
 * Issue 18, a classify lead measured alone: a 64-row product x[M, K] @ w[K, N] as one call on two intra-op
 * (MKL) threads ("mkl2"), against two Java threads each multiplying by half of w's columns on one intra-op
 * thread ("split"). The intra-op thread count is fixed when libtorch loads, so each mode is its own process;
 * prints the p50 of 350 calls after 50 warm-up calls.
 *
 *   javac -d /tmp/bench -cp 'target/lib/*:target/gpt2cls-runner.jar' bench/SplitProducts.java
 *   for mode in mkl2 split; do java -cp '/tmp/bench:target/lib/*:target/gpt2cls-runner.jar' SplitProducts $mode 64 768 2304; done
 */
public final class SplitProducts {

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        int m = Integer.parseInt(args[1]);
        int k = Integer.parseInt(args[2]);
        int n = Integer.parseInt(args[3]);
        System.setProperty("ai.djl.pytorch.num_threads", mode.equals("split") ? "1" : "2");
        NativeRuntime.init(); // MKL's kernels by CPU features, as the service runs
        Engine.getInstance(); // loads libtorch
        JniUtils.setGradMode(false);
        ExecutorService pool = Executors.newFixedThreadPool(2, task -> {
            Thread thread = new Thread(() -> {
                JniUtils.setGradMode(false); // grad mode is per thread
                task.run();
            });
            thread.setDaemon(true);
            return thread;
        });
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(new Shape(m, k));
            NDArray w = manager.randomNormal(new Shape(k, n));
            NDArray left = w.get(":, 0:" + n / 2).duplicate();
            NDArray right = w.get(":, " + n / 2 + ":").duplicate();
            List<Double> micros = new ArrayList<>();
            for (int call = 0; call < 400; call++) {
                long start = System.nanoTime();
                if (mode.equals("split")) {
                    Future<NDArray> a = pool.submit(() -> x.matMul(left));
                    Future<NDArray> b = pool.submit(() -> x.matMul(right));
                    a.get().close();
                    b.get().close();
                } else {
                    x.matMul(w).close();
                }
                if (call >= 50) {
                    micros.add((System.nanoTime() - start) / 1e3);
                }
            }
            Collections.sort(micros);
            double p50 = micros.get(micros.size() / 2);
            System.out.printf("%s %dx%dx%d: p50 %.0f us, %.1f GFLOP/s%n", mode, m, k, n, p50, 2.0 * m * k * n / p50 / 1e3);
        }
    }
}
