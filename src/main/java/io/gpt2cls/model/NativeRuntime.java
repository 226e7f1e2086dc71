package io.gpt2cls.model;

/**
 * Pins DJL to offline mode before any native library is touched.
 *
 * <p>Without {@code ai.djl.offline=true} DJL may try to download libtorch, tokenizer binaries or
 * models, and its usage tracker probes the EC2 metadata address. Everything we need ships inside
 * the jars, so every entry point that creates NDArrays or tokenizers calls {@link #ensureOffline()}
 * first. A user can still override the property explicitly.
 */
public final class NativeRuntime {

    private NativeRuntime() {}

    public static void ensureOffline() {
        if (System.getProperty("ai.djl.offline") == null && System.getenv("DJL_OFFLINE") == null) {
            System.setProperty("ai.djl.offline", "true");
        }
        if (System.getProperty("OPT_OUT_TRACKING") == null) {
            System.setProperty("OPT_OUT_TRACKING", "true");
        }
    }
}
