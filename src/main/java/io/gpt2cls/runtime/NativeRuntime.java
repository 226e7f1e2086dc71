package io.gpt2cls.runtime;

import org.jboss.logging.Logger;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * Sets up the native side before any native library is touched; every entry point that creates
 * NDArrays or tokenizers calls {@link #init()} first.
 *
 * <ul>
 *   <li>{@code ai.djl.offline=true}: everything we need ships inside the jars. Without it DJL may
 *       try to download libtorch or tokenizer binaries, and its usage tracker probes the EC2
 *       metadata address. A user can still override the property explicitly.</li>
 *   <li>{@code THP_MEM_ALLOC_ENABLE=1} for libtorch: its CPU allocator then backs large tensors
 *       with transparent huge pages. Attention scores at 512 tokens are tens of MB per batch,
 *       freshly mapped each step; with 4 KiB pages the page faults took half the CPU time
 *       (measured: 3.4M faults and 1.9k tokens/s vs 0.27M faults and 4.8k tokens/s, see
 *       BENCHMARKS.md). libtorch reads the variable once, at its first allocation, so it is set in
 *       the process environment here, before the engine loads. An explicit setting wins.</li>
 * </ul>
 */
public final class NativeRuntime {

    private static final Logger LOG = Logger.getLogger(NativeRuntime.class);
    private static boolean initialised;

    private NativeRuntime() {}

    /** The libc call Java lacks: the JVM can read its environment but not change it. */
    interface LibC extends Library {
        int setenv(String name, String value, int overwrite);
    }

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
        if (Platform.isLinux() && System.getenv("THP_MEM_ALLOC_ENABLE") == null) {
            try {
                Native.load("c", LibC.class).setenv("THP_MEM_ALLOC_ENABLE", "1", 0);
            } catch (UnsatisfiedLinkError | RuntimeException e) {
                LOG.debugf("could not enable huge pages for libtorch: %s", e.getMessage());
            }
        }
    }
}
