package io.gpt2cls.storage;

import java.nio.file.Path;

/**
 * A child process for {@link LocalPublishInterleavingTest}: publishes one set as writer "A" and
 * dies (halts, as a kill would end it) when its publish reaches the step named in its arguments.
 */
public final class LocalPublishChild {

    public static void main(String[] args) throws Exception {
        Location location = Location.of(Path.of(args[0]));
        LocalStore.Step dieAt = LocalStore.Step.valueOf(args[1]);
        LocalStore.steps = step -> {
            if (step == dieAt) {
                Runtime.getRuntime().halt(137);
            }
        };
        ConcurrentPublishContract.publish(new LocalStore(), location, "A", ConcurrentPublishContract.files("A", 2, 2000, 2));
    }
}
