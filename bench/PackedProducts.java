import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import com.sun.jna.Function;
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
 * Issue 18: MKL's packed GEMM against x.matMul(w) on GPT-2 small's 48 block products (12 layers of c_attn, attn.c_proj,
 * c_fc, mlp.c_proj), each with its own weight, one after the other as a forward runs them: x[ROWS, K] @ w[K, N]. Each
 * weight is packed once for PACK_ROWS rows (cblas_sgemm_pack; model.PackedWeight uses 256), then every product is
 * cblas_sgemm_compute on the tensors' own memory, through JNA (libtorch_cpu.so exports both). Prints the best of 15
 * passes over the 48 products, four times.
 *
 * One weight multiplied again and again (this program's first version) stays in the CPU's caches and hides most of
 * the difference: packing's gain shows when each weight comes from memory, as in a forward. The row count MKL packs
 * for picks its kernel: packed for 1 row, products of 64 rows are slower than plain ones.
 *
 *   javac -d /tmp/bench -cp 'target/lib/*:target/gpt2cls-runner.jar' bench/PackedProducts.java
 *   java -cp '/tmp/bench:target/lib/*:target/gpt2cls-runner.jar' PackedProducts 64 256
 */
public final class PackedProducts {

    // CBLAS's enums, as mkl_cblas.h numbers them
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int PACKED = 151;
    private static final int B_MATRIX = 162;
    private static final int[][] BLOCK_PRODUCTS = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}}; // {K, N}

    public static void main(String[] args) throws Exception {
        int rows = Integer.parseInt(args[0]);
        int packRows = args.length > 1 ? Integer.parseInt(args[1]) : rows;
        NativeRuntime.init(); // MKL's kernels by CPU features, as the service runs
        Engine.getInstance(); // loads libtorch
        JniUtils.setGradMode(false);
        NativeLibrary torch = NativeLibrary.getInstance(loaded("libtorch_cpu.so"));
        Function packedSize = torch.getFunction("cblas_sgemm_pack_get_size");
        Function pack = torch.getFunction("cblas_sgemm_pack");
        Function compute = torch.getFunction("cblas_sgemm_compute");
        try (NDManager manager = NDManager.newBaseManager()) {
            List<NDArray> weights = new ArrayList<>();
            List<Pointer> packed = new ArrayList<>();
            for (int layer = 0; layer < 12; layer++) {
                for (int[] product : BLOCK_PRODUCTS) {
                    int k = product[0];
                    int n = product[1];
                    NDArray w = manager.randomNormal(new Shape(k, n));
                    long bytes = ((Number) packedSize.invoke(Long.class, new Object[] {B_MATRIX, packRows, n, k})).longValue();
                    Pointer memory = new Pointer(Native.malloc(bytes));
                    pack.invoke(Void.class, new Object[] {ROW_MAJOR, B_MATRIX, NO_TRANS, packRows, n, k, 1.0f, address(w), n, memory});
                    weights.add(w);
                    packed.add(memory);
                }
            }
            NDArray narrow = manager.randomNormal(new Shape(rows, 768));
            NDArray wide = manager.randomNormal(new Shape(rows, 3072));
            for (int repeat = 0; repeat < 4; repeat++) {
                double plainBest = Double.MAX_VALUE;
                double packedBest = Double.MAX_VALUE;
                for (int pass = 0; pass < 15; pass++) {
                    long start = System.nanoTime();
                    for (NDArray w : weights) {
                        (w.getShape().get(0) == 768 ? narrow : wide).matMul(w).close();
                    }
                    plainBest = Math.min(plainBest, (System.nanoTime() - start) / 1e6);
                    start = System.nanoTime();
                    for (int i = 0; i < weights.size(); i++) {
                        int k = (int) weights.get(i).getShape().get(0);
                        int n = (int) weights.get(i).getShape().get(1);
                        NDArray y = manager.create(new Shape(rows, n));
                        compute.invoke(Void.class, new Object[] {ROW_MAJOR, NO_TRANS, PACKED, rows, n, k, address(k == 768 ? narrow : wide), k,
                                packed.get(i), n, 0.0f, address(y), n});
                        y.close();
                    }
                    packedBest = Math.min(packedBest, (System.nanoTime() - start) / 1e6);
                }
                System.out.printf("%d rows, 48 products, each its own weight: plain %.1f ms, packed for %d rows %.1f ms, ratio %.2f%n",
                        rows, plainBest, packRows, packedBest, plainBest / packedBest);
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
