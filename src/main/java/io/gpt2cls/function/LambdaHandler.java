package io.gpt2cls.function;

import java.util.Set;

import io.gpt2cls.runtime.NativeRuntime;
import io.quarkus.funqy.lambda.FunqyStreamHandler;
import io.quarkus.runtime.Quarkus;

/**
 * The Lambda image's entry (its {@code CMD}): Funqy's stream handler, with a Lambda init that does what
 * the jar's {@code Main.main} does for a {@code java -jar} run. Funqy's own handler only prepares
 * Quarkus in its constructor (Lambda's init) and starts it in the first invocation, so the first request
 * paid for Quarkus's start, libtorch's load after it, and a {@code load-on-start} model load as well.
 * Here, while the runtime constructs the handler:
 * <ul>
 *   <li>a function that loads a model starts loading libtorch and the tokenizers library on a thread of
 *       their own ({@link NativeRuntime#preloadInBackground}), beside Quarkus's boot;</li>
 *   <li>Quarkus starts (start-up observers run: {@code gpt2cls.classify.load-on-start} loads the model in
 *       the init, which provisioned concurrency pays before traffic). A failure fails the init, where
 *       Lambda reports it.</li>
 * </ul>
 */
public class LambdaHandler extends FunqyStreamHandler {

    /** The functions that load a model (the others, {@code prepare}, would load libtorch for nothing). */
    private static final Set<String> MODEL_FUNCTIONS = Set.of("classify", "finetune");

    static {
        // read before Quarkus's configuration exists, as Main.main does; application.properties exports classify
        String function = System.getProperty("quarkus.funqy.export", System.getenv("QUARKUS_FUNQY_EXPORT"));
        if (MODEL_FUNCTIONS.contains(function == null ? "classify" : function)) {
            NativeRuntime.preloadInBackground();
        }
    }

    public LambdaHandler() {
        super(); // Quarkus.manualInitialize()
        Quarkus.manualStart(); // the first invocation's own call then finds it started
    }
}
