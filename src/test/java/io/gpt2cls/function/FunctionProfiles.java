package io.gpt2cls.function;

import java.util.Map;

import io.quarkus.test.junit.QuarkusTestProfile;

/** One Quarkus profile per exported function: several functions with no export fail at start. */
public final class FunctionProfiles {

    private FunctionProfiles() {}

    public static class Prepare implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.funqy.export", "prepare");
        }
    }

    public static class Finetune implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.funqy.export", "finetune");
        }
    }

    /**
     * The model is trained by the test itself, inside the application's classloader: DJL's native
     * libraries must not be loaded by another classloader first. The service loads it lazily.
     */
    public static class Classify implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.funqy.export", "classify",
                    "gpt2cls.classify.model", TestModels.trainedModelDir().toString(),
                    "gpt2cls.classify.max-texts", "4",
                    "gpt2cls.classify.max-bytes-per-text", "1000");
        }
    }
}
