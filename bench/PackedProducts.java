import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;

import io.gpt2cls.runtime.NativeRuntime;

/**
 * Issue 18, a classify lead measured alone: MKL's packed GEMM for a 64-row product x[M, K] @ w[K, N]. w is packed
 * once (cblas_sgemm_pack, as a model could at load), then each call is cblas_sgemm_compute into a fresh tensor,
 * through JNA on the tensors' own memory; libtorch_cpu.so exports both. Against x.matMul(w), alternating, p50 of
 * 300 calls each, three repeats; checks that both give the same numbers first.
 *
 *   javac -d /tmp/bench -cp 'target/lib/*:target/gpt2cls-runner.jar' bench/PackedProducts.java
 *   java -cp '/tmp/bench:target/lib/*:target/gpt2cls-runner.jar' PackedProducts 64 768 2304
 */
public final class PackedProducts {

    // CBLAS's enums, as mkl_cblas.h numbers them
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int PACKED = 151;
    private static final int B_MATRIX = 162;

    public static void main(String[] args) throws Exception {
        int m = Integer.parseInt(args[0]);
        int k = Integer.parseInt(args[1]);
        int n = Integer.parseInt(args[2]);
        NativeRuntime.init(); // MKL's kernels by CPU features, as the service runs
        Engine.getInstance(); // loads libtorch
        JniUtils.setGradMode(false);
        NativeLibrary torch = NativeLibrary.getInstance(loaded("libtorch_cpu.so"));
        Function packedSize = torch.getFunction("cblas_sgemm_pack_get_size");
        Function pack = torch.getFunction("cblas_sgemm_pack");
        Function compute = torch.getFunction("cblas_sgemm_compute");
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray x = manager.randomNormal(new Shape(m, k));
            NDArray w = manager.randomNormal(new Shape(k, n));
            Memory packed = new Memory(((Number) packedSize.invoke(Long.class, new Object[] {B_MATRIX, m, n, k})).longValue());
            pack.invoke(Void.class, new Object[] {ROW_MAJOR, B_MATRIX, NO_TRANS, m, n, k, 1.0f, address(w), n, packed});
            Pointer xAddress = address(x);
            java.util.function.Supplier<NDArray> packedProduct = () -> {
                NDArray y = manager.create(new Shape(m, n));
                compute.invoke(Void.class, new Object[] {ROW_MAJOR, NO_TRANS, PACKED, m, n, k, xAddress, k, packed, n, 0.0f, address(y), n});
                return y;
            };
            try (NDArray plain = x.matMul(w); NDArray viaPack = packedProduct.get(); NDArray diff = plain.sub(viaPack).abs().max()) {
                System.out.println("max |difference| " + diff.getFloat());
            }
            for (int repeat = 0; repeat < 3; repeat++) {
                List<Double> plainMicros = new ArrayList<>();
                List<Double> packedMicros = new ArrayList<>();
                for (int call = 0; call < 300; call++) {
                    long start = System.nanoTime();
                    x.matMul(w).close();
                    plainMicros.add((System.nanoTime() - start) / 1e3);
                    start = System.nanoTime();
                    packedProduct.get().close();
                    packedMicros.add((System.nanoTime() - start) / 1e3);
                }
                Collections.sort(plainMicros);
                Collections.sort(packedMicros);
                double a = plainMicros.get(150);
                double b = packedMicros.get(150);
                System.out.printf("%dx%dx%d matMul p50 %.0f us (%.0f GFLOP/s), packed p50 %.0f us (%.0f GFLOP/s), ratio %.2f%n",
                        m, k, n, a, 2.0 * m * k * n / a / 1e3, b, 2.0 * m * k * n / b / 1e3, a / b);
            }
        }
    }

    /** A contiguous float tensor's memory (the buffer aliases it). */
    private static Pointer address(NDArray array) {
        return Native.getDirectBufferPointer(array.toByteBuffer(true));
    }

    /** The path of a library this process has loaded, from /proc/self/maps. */
    private static String loaded(String name) throws Exception {
        return Files.readAllLines(Path.of("/proc/self/maps")).stream().filter(line -> line.endsWith("/" + name))
                .map(line -> line.substring(line.indexOf('/'))).findFirst().orElseThrow();
    }
}
