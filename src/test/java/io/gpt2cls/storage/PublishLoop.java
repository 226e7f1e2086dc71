package io.gpt2cls.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * A child process for {@link LocalStoreKillTest}: publishes version after version of one set until
 * it is killed. Each version's commit object names the SHA-256 of every data file, so a reader can
 * tell a complete set from a mix.
 */
public final class PublishLoop {

    static final String COMMIT = "config.json";
    static final int FILES = 4;
    static final int FILE_BYTES = 2 * 1024 * 1024;

    public static void main(String[] args) throws Exception {
        Location location = Location.of(Path.of(args[0]));
        LocalStore store = new LocalStore();
        Random random = new Random();
        for (long version = 1; ; version++) {
            try (ArtifactStore.Staging staging = store.stage(location, COMMIT)) {
                StringBuilder commit = new StringBuilder("{\"version\": " + version);
                for (int f = 0; f < FILES; f++) {
                    byte[] data = new byte[FILE_BYTES];
                    random.nextBytes(data);
                    Files.write(staging.dir().resolve("part-" + f + ".bin"), data);
                    commit.append(", \"part-").append(f).append(".bin\": \"").append(TextTokenizer.sha256(data)).append('"');
                }
                Files.writeString(staging.dir().resolve(COMMIT), commit.append('}').toString());
                staging.commit();
            }
            System.out.println("published " + version);
        }
    }
}
