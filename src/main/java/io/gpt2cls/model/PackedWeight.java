package io.gpt2cls.model;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

import org.jboss.logging.Logger;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.LibUtils;

import io.gpt2cls.runtime.NativeRuntime;

/**
 * A {@link Gpt2ForSequenceClassification.Conv1D} weight (in, out) in MKL's packed GEMM layout, for a model that
 * only serves. A plain product {@code x @ W} has MKL copy W into the order its kernel reads it, on every call:
 * for the short inputs classify sees (a text of 16 to 128 tokens is a product of 16 to 128 rows) that copy is a
 * large part of the product. Packed once ({@code cblas_sgemm_pack}), each product is {@code cblas_sgemm_compute}
 * alone: GPT-2 small's 48 products, each weight read from memory as in a forward, measured 1.3x faster at 64
 * rows and 1.7x at 16 (BENCHMARKS.md, issue 18).
 * Results equal the plain product's up to float rounding: MKL sums in another order for some shapes.
 *
 * <p>libtorch's CPU library links MKL and exports both functions; where it does not (a libtorch without MKL),
 * {@link #available()} is false and models keep their plain products.
 *
 * <p>MKL documents a packed matrix for the sizes it was packed for; this class packs for
 * {@value #PACKED_FOR_ROWS} rows and multiplies any row count with it (PyTorch's and Intel's own packed
 * linears repack or fall back to the plain product instead). That it gives the plain product's numbers was
 * measured on this project's CPU only, and MKL picks its kernels by the CPU. So every process checks it
 * again, once per weight shape, before a model drops a plain weight: {@link #agreesWithPlain}.
 *
 * <p>Owns its memory (outside libtorch's allocator): freed by {@link #close()}, which the model's close calls.
 * MKL asks for 2.2-4.9x the weight's bytes, but writes (and so makes resident) about the weight's own size.
 */
final class PackedWeight implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(PackedWeight.class);

    // CBLAS's enums, as mkl_cblas.h numbers them
    private static final int ROW_MAJOR = 101;
    private static final int NO_TRANS = 111;
    private static final int PACKED = 151;
    private static final int B_MATRIX = 162;
    /**
     * The row count MKL lays the weight out for; products of any row count can use the layout, but MKL picks
     * the layout's kernel by it. Over GPT-2 small's 48 products, packed for 256 rows: 1.1x faster than plain
     * at 1 row, 2x at 4, 1.7x at 16, 1.3x at 64, 1.1x at 128, 1.04x at 512; packed for 1 row it is slower
     * than plain at 64, and packed for 1,024 too (BENCHMARKS.md, issue 18).
     */
    static final int PACKED_FOR_ROWS = 256;
    /**
     * Row counts {@link #agreesWithPlain} compares every shape at: one row, and 17 (a remainder past whole row
     * blocks). What a weight's shape decides is its packed layout, which these read in full.
     */
    private static final int[] LAYOUT_ROWS = {1, 17};
    /**
     * Row counts it compares one shape of a model at (its smallest: GPT-2 small's attn.c_proj): a few rows, under
     * and over 32, and past the packed-for {@value #PACKED_FOR_ROWS}. How MKL walks the rows (its row blocks and
     * remainders) is the CPU's kernel's, the same for every layout, so one shape stands for all; on GPT-2 small's
     * other three shapes these would add ~30 ms to a cold start.
     */
    private static final int[] EVERY_ROWS = {1, 5, 17, 64, 257};
    /** {@link #agreesWithPlain}'s answer per (in, out, how many row counts), for the life of the process. */
    private static final Map<List<Integer>, Boolean> CHECKED = new ConcurrentHashMap<>();

    final int in;
    final int out;
    private Pointer packed; // malloc'd; null once freed

    private PackedWeight(int in, int out, long address) {
        this.in = in;
        this.out = out;
        this.packed = new Pointer(address);
    }

    /** Whether this libtorch exports MKL's packed GEMM (checked once, after libtorch has loaded). */
    static boolean available() {
        return Mkl.linked();
    }

    /** Whether {@code weight} can be packed: a float32 matrix in host memory, and MKL's packed GEMM at hand. */
    static boolean canPack(NDArray weight) {
        return available() && weight.getDataType() == DataType.FLOAT32 && Device.cpu().equals(weight.getDevice())
                && weight.getShape().dimension() == 2;
    }

    /** {@code weight} (in, out) packed; the array itself is left as it was. */
    static PackedWeight of(NDArray weight) {
        if (!canPack(weight)) {
            throw new IllegalArgumentException("cannot pack a " + weight.getDataType() + " array of shape " + weight.getShape()
                    + " on " + weight.getDevice() + (available() ? "" : ": this libtorch exports no MKL packed GEMM"));
        }
        int in = Math.toIntExact(weight.getShape().get(0));
        int out = Math.toIntExact(weight.getShape().get(1));
        long bytes = Mkl.cblas_sgemm_pack_get_size(B_MATRIX, PACKED_FOR_ROWS, out, in);
        long address = Native.malloc(bytes);
        if (address == 0) {
            throw new OutOfMemoryError("could not allocate " + bytes + " bytes for a packed " + in + " x " + out + " weight");
        }
        PackedWeight packedWeight = new PackedWeight(in, out, address);
        try {
            Mkl.cblas_sgemm_pack(ROW_MAJOR, B_MATRIX, NO_TRANS, PACKED_FOR_ROWS, out, in, 1f, host(weight), out, packedWeight.packed);
        } catch (RuntimeException | Error e) {
            packedWeight.close();
            throw e;
        }
        return packedWeight;
    }

    /**
     * Whether {@code packed} ({@code weight}, packed) multiplies as the plain product does at each of
     * {@link #LAYOUT_ROWS}, or of {@link #EVERY_ROWS} for the shape that stands for the model's row walks: random
     * inputs, within 1e-4 of the largest output, where a layout MKL cannot use gives other numbers altogether.
     * Answered once per shape, row counts and process.
     */
    static boolean agreesWithPlain(PackedWeight packed, NDArray weight, boolean everyRowCount) {
        int[] rowCounts = everyRowCount ? EVERY_ROWS : LAYOUT_ROWS;
        return CHECKED.computeIfAbsent(List.of(packed.in, packed.out, rowCounts.length), key -> multipliesAs(packed, weight, rowCounts));
    }

    /** Whether {@code packed} times random inputs of {@code rowCounts} rows equals them times {@code weight}. */
    static boolean multipliesAs(PackedWeight packed, NDArray weight, int... rowCounts) {
        try (NDManager scratch = weight.getManager().newSubManager()) {
            for (int rows : rowCounts) {
                NDArray x = scratch.randomNormal(new Shape(rows, packed.in));
                NDArray plain = x.matMul(weight);
                float largest = plain.abs().max().getFloat();
                float difference = plain.sub(packed.times(x)).abs().max().getFloat();
                if (!(difference <= 1e-4f * Math.max(1f, largest))) {
                    LOG.warnf("MKL's packed product of a %d x %d weight differs from the plain product by %g at %d rows (largest"
                            + " value %g): a model with products of this shape keeps them plain", packed.in, packed.out, difference, rows, largest);
                    return false;
                }
            }
            return true;
        }
    }

    /**
     * Frees a packed weight's plain copy: its memory pages are given back ({@link NativeRuntime#dropPages}),
     * then the array is closed. Closing alone would not do: a checkpoint's weights are slices of the
     * safetensors file's one mapping ({@link ModelCheckpoint}), which stays while other weights use it, and
     * packing has read every page of it. Nothing may read the array afterwards.
     */
    static void discard(NDArray weight) {
        ByteBuffer memory = weight.toByteBuffer(true);
        NativeRuntime.dropPages(Pointer.nativeValue(Native.getDirectBufferPointer(memory)), memory.capacity());
        weight.close();
    }

    /** {@code x} (..., in) @ the weight: (..., out), a new array on {@code x}'s manager. */
    NDArray times(NDArray x) {
        Shape shape = x.getShape();
        if (shape.get(shape.dimension() - 1) != in || x.getDataType() != DataType.FLOAT32) {
            throw new IllegalArgumentException("a packed " + in + " x " + out + " float32 weight times a " + x.getDataType()
                    + " array of shape " + shape);
        }
        Pointer weight = packed;
        if (weight == null) { // a use after close in sequence; a close during a product is the model's owner's to prevent
            throw new IllegalStateException("a packed " + in + " x " + out + " weight used after its model was closed");
        }
        int rows = Math.toIntExact(shape.size() / in);
        NDArray y = x.getManager().create(shape.slice(0, shape.dimension() - 1).add(out)); // uninitialised: beta = 0
        Mkl.cblas_sgemm_compute(ROW_MAJOR, NO_TRANS, PACKED, rows, out, in, host(x), in, weight, out, 0f, host(y), out);
        return y;
    }

    /**
     * A host float32 array's memory. DJL hands over libtorch's own memory for a contiguous array, and for
     * another a contiguous copy, attached to the array's manager (so alive as long as the array's scope).
     */
    private static Pointer host(NDArray array) {
        return Native.getDirectBufferPointer(array.toByteBuffer(true));
    }

    @Override
    public synchronized void close() {
        if (packed != null) {
            Native.free(Pointer.nativeValue(packed));
            packed = null;
        }
    }

    /**
     * MKL's packed GEMM, bound to libtorch's CPU library on first use (a weight exists: libtorch has loaded), never
     * in a static initializer: Quarkus's class preloading initialises the application's classes while it boots,
     * beside libtorch's own load.
     */
    private static final class Mkl {
        private static Boolean linked; // guarded by Mkl.class; null until tried

        static synchronized boolean linked() {
            if (linked == null) {
                linked = link();
            }
            return linked;
        }

        static native long cblas_sgemm_pack_get_size(int identifier, int m, int n, int k);

        static native void cblas_sgemm_pack(int layout, int identifier, int trans, int m, int n, int k, float alpha, Pointer src,
                                            int ld, Pointer dest);

        static native void cblas_sgemm_compute(int layout, int transa, int transb, int m, int n, int k, Pointer a, int lda,
                                               Pointer b, int ldb, float beta, Pointer c, int ldc);

        private static boolean link() {
            try {
                Path library = Path.of(LibUtils.getLibtorchPath()).resolve(System.mapLibraryName("torch_cpu"));
                Native.register(Mkl.class, NativeLibrary.getInstance(library.toString()));
                return true;
            } catch (UnsatisfiedLinkError | RuntimeException e) { // no such library or symbol: plain products
                return false;
            }
        }
    }
}
