package io.gpt2cls.runtime;

import java.util.Map;

import org.jboss.logging.Logger;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Pointer;
import com.sun.jna.Platform;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Sets up the native side before any native library is touched; every entry point that creates
 * NDArrays or tokenizers calls {@link #init()} first. Each setting below is a default: a user's
 * explicit system property or environment variable wins.
 *
 * <ul>
 *   <li>{@code ai.djl.offline=true}: everything we need ships inside the jars. Without it DJL may
 *       try to download libtorch or tokenizer binaries, and its usage tracker probes the EC2
 *       metadata address.</li>
 *   <li>{@code THP_MEM_ALLOC_ENABLE=1} for libtorch: its CPU allocator then backs large tensors
 *       with transparent huge pages. Attention scores at 512 tokens are tens of MB per batch,
 *       freshly mapped each step; with 4 KiB pages the page faults took half the CPU time
 *       (measured: 3.4M faults and 1.9k tokens/s vs 0.27M faults and 4.8k tokens/s, see
 *       BENCHMARKS.md).</li>
 *   <li>{@code OMP_WAIT_POLICY=PASSIVE}: libtorch's OpenMP threads sleep at the end of a parallel
 *       region instead of spinning. A forward has hundreds of regions; when the CPUs are shared
 *       (a Lambda vCPU share, a busy host) a spinning thread burns the time its partner needs to
 *       reach the barrier: batch 1 x 64 tokens took 5 s instead of 0.9 s on a loaded 2-CPU host
 *       (BENCHMARKS.md).</li>
 *   <li>glibc's allocator keeps freed memory for the next tensors: allocations below 32 MB come
 *       from its heap rather than from fresh mappings ({@code M_MMAP_THRESHOLD}), and the heap is
 *       not handed back to the system after each forward ({@code M_TRIM_THRESHOLD}). Otherwise each
 *       forward faulted in ~100 MB of fresh zeroed pages: batch 1 x 64 tokens took 390 ms instead of
 *       150 ms, with 24,000 page faults per forward instead of 2,000 (BENCHMARKS.md). Memory then
 *       stays at the largest forward's working set, which {@code tokens-per-forward} bounds.
 *       Skipped when the user tunes malloc ({@code MALLOC_*_}, {@code GLIBC_TUNABLES}).</li>
 *   <li>Intra-op threads = the CPUs the JVM may use ({@code availableProcessors()}, which follows
 *       the container's CPU quota; on Lambda it grows with the memory size), through DJL's
 *       {@code ai.djl.pytorch.num_threads}.</li>
 *   <li>MKL's kernels chosen by the CPU's features, not its vendor: libtorch's matrix products are
 *       Intel oneMKL's, which on an AMD CPU takes generic code paths unless its vendor check says
 *       Intel. The project's one native library ({@code src/main/native/mkl_cpu_by_features.c})
 *       answers that check, loaded into the global symbol scope before libtorch: GPT-2 small's
 *       classify at 1 x 64 tokens 1.3x faster on an AMD EPYC (BENCHMARKS.md); no effect on Intel.
 *       {@code GPT2CLS_MKL_BY_FEATURES=false} leaves MKL's own check.</li>
 * </ul>
 *
 * libtorch and its OpenMP runtime read their variables once, when they load, so they are set in the
 * process environment here (libc {@code setenv}), before the engine loads.
 */
public final class NativeRuntime {

    private static final Logger LOG = Logger.getLogger(NativeRuntime.class);
    static final String THREADS_PROPERTY = "ai.djl.pytorch.num_threads";
    /** The library answering MKL's vendor check ({@code linux-x86-64/} in the jar, where JNA looks). */
    static final String MKL_BY_FEATURES_LIBRARY = "gpt2cls_mkl_cpu";
    private static final int RTLD_NOW = 0x2;
    private static final int RTLD_GLOBAL = 0x100;
    private static boolean initialised;
    /**
     * Held for the life of the process: JNA closes a library nobody references, and libtorch's calls
     * stay bound to its code.
     */
    private static NativeLibrary mklByFeatures;

    private NativeRuntime() {}

    /** The libc calls Java lacks: the JVM reads a copy of its environment taken at start, and cannot change it. */
    interface LibC extends Library {
        int setenv(String name, String value, int overwrite);

        String getenv(String name);

        /** Returns 1 on success. */
        int mallopt(int param, int value);

        /** Ends the process at once: no atexit handlers, no C++ static destructors (see {@link GracefulStop}). */
        void _exit(int status);

        int getpagesize();

        int madvise(Pointer address, long length, int advice);
    }

    private static final int MADV_DONTNEED = 4;

    /**
     * Gives the memory pages wholly inside {@code [address, address + length)} back to the system (madvise
     * DONTNEED): anonymous pages are freed, a private file mapping's are dropped. Nothing may read that range
     * afterwards. Advice only: where it is refused (or off Linux) the pages stay.
     */
    public static void dropPages(long address, long length) {
        if (!Platform.isLinux()) {
            return;
        }
        LibC libc = Native.load("c", LibC.class);
        long page = libc.getpagesize();
        long first = (address + page - 1) / page * page;
        long end = (address + length) / page * page;
        if (end > first) {
            libc.madvise(new Pointer(first), end - first, MADV_DONTNEED);
        }
    }

    /** mallopt parameters (malloc.h). */
    private static final int M_TRIM_THRESHOLD = -1;
    private static final int M_MMAP_THRESHOLD = -3;
    /** The largest mmap threshold glibc accepts on 64-bit. */
    static final int MMAP_THRESHOLD_BYTES = 32 << 20;
    static final int TRIM_THRESHOLD_BYTES = 1 << 30;

    public static synchronized void init() {
        if (initialised) {
            return;
        }
        initialised = true;
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
        setDefaultEnv("THP_MEM_ALLOC_ENABLE", "1");
        if (System.getenv("GOMP_SPINCOUNT") == null) {
            setDefaultEnv("OMP_WAIT_POLICY", "PASSIVE");
        }
        keepFreedMemory();
        mklKernelsByFeatures();
        if (System.getProperty(THREADS_PROPERTY) == null && System.getenv("OMP_NUM_THREADS") == null) {
            System.setProperty(THREADS_PROPERTY, String.valueOf(Runtime.getRuntime().availableProcessors()));
        }
        LOG.infof("libtorch: %s intra-op threads (%d CPUs available), OMP_WAIT_POLICY=%s, THP_MEM_ALLOC_ENABLE=%s,"
                + " MKL kernels by CPU features: %s",
                System.getProperty(THREADS_PROPERTY, "OMP_NUM_THREADS=" + System.getenv("OMP_NUM_THREADS")),
                Runtime.getRuntime().availableProcessors(), env("OMP_WAIT_POLICY"), env("THP_MEM_ALLOC_ENABLE"),
                mklByFeatures != null ? "yes" : "no");
    }

    /** Loads {@link #MKL_BY_FEATURES_LIBRARY} into the global symbol scope, before libtorch; see the class comment. */
    private static void mklKernelsByFeatures() {
        if (!Platform.isLinux() || !Platform.isIntel() || !Platform.is64Bit()
                || "false".equalsIgnoreCase(System.getenv("GPT2CLS_MKL_BY_FEATURES"))) {
            return;
        }
        try {
            mklByFeatures = NativeLibrary.getInstance(MKL_BY_FEATURES_LIBRARY,
                    Map.of(Library.OPTION_OPEN_FLAGS, RTLD_NOW | RTLD_GLOBAL));
        } catch (LinkageError | RuntimeException e) { // a speed-up only: never a reason not to start
            LOG.warnf("could not load %s: MKL keeps its vendor check (slower products on AMD CPUs): %s",
                    MKL_BY_FEATURES_LIBRARY, e);
        }
    }

    /**
     * Starts loading libtorch and the tokenizers library on a thread of their own, for a process
     * that will load a model: the JVM and Quarkus boot meanwhile, mostly on one CPU, so a cold start
     * pays for the slower of the two rather than their sum. Whoever needs the engine later waits for
     * this load instead of starting another; a failure here is met again, and reported, there.
     */
    public static void preloadInBackground() {
        Thread preload = new Thread(() -> {
            try {
                init();
                Engine.getInstance();
                ai.djl.huggingface.tokenizers.jni.LibUtils.checkStatus();
            } catch (RuntimeException | LinkageError e) {
                LOG.debugf("preloading the native libraries failed: %s", e);
            }
        }, "native-preload");
        preload.setDaemon(true);
        preload.start();
    }

    /**
     * Turns autograd off on the calling thread. PyTorch's grad mode is per thread and on by default;
     * DJL turns it off only on the thread that loaded the engine. Inference on any other thread
     * (a request thread, a pool) calls this first, so no op records a graph.
     */
    public static void noGradOnThisThread() {
        Engine.getInstance(); // loads libtorch if nothing has yet
        JniUtils.setGradMode(false);
    }

    /** glibc's allocator set to reuse freed memory; see the class comment. */
    private static void keepFreedMemory() {
        boolean userTuned = System.getenv().keySet().stream().anyMatch(name -> name.startsWith("MALLOC_"))
                || System.getenv("GLIBC_TUNABLES") != null;
        if (!Platform.isLinux() || userTuned) {
            return;
        }
        try {
            LibC libc = Native.load("c", LibC.class);
            if (libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES) != 1 || libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES) != 1) {
                LOG.debugf("glibc refused the malloc thresholds");
            }
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            LOG.debugf("could not tune malloc: %s", e.getMessage());
        }
    }

    /** Sets {@code name} in the process environment unless the user set it. */
    private static void setDefaultEnv(String name, String value) {
        if (!Platform.isLinux() || System.getenv(name) != null) {
            return;
        }
        try {
            Native.load("c", LibC.class).setenv(name, value, 0);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            LOG.debugf("could not set %s for libtorch: %s", name, e.getMessage());
        }
    }

    /** A variable as the native libraries see it (System.getenv does not see what setenv set). */
    private static String env(String name) {
        try {
            return Platform.isLinux() ? Native.load("c", LibC.class).getenv(name) : System.getenv(name);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            return System.getenv(name);
        }
    }
}
