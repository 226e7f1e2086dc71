package io.gpt2cls.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/** Directory trees the code made and removes again: the store's staging and cache, prepare's map results. */
public final class Directories {

    private Directories() {}

    /** Deletes {@code dir} and everything below it, if it exists; files another process removed meanwhile are fine. */
    public static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
                try {
                    Files.delete(path);
                } catch (NoSuchFileException gone) {
                    // removed concurrently: fine
                }
            }
        }
    }
}
