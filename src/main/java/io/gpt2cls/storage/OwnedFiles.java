package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * Temporary directories named after the process that owns them, so that a later process can tell
 * the leftovers of a dead one (removed) from the work of a live one (kept). Used by the local store's
 * staging and the S3 cache's downloads.
 */
final class OwnedFiles {

    /**
     * This process as a name part: pid and start time, since a pid alone is reused after a restart
     * (a Lambda sandbox's processes often get the same pid).
     */
    static final String OWNER = ProcessHandle.current().pid() + "-"
            + ProcessHandle.current().info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);

    private OwnedFiles() {}

    /** Whether the process that wrote {@code pid-startMillis} still runs; when its start is unknown, assume it does. */
    static boolean isAlive(long pid, long startMillis) {
        return ProcessHandle.of(pid)
                .map(process -> process.info().startInstant().map(i -> i.toEpochMilli() == startMillis).orElse(true))
                .orElse(false);
    }

    /** Deletes {@code dir} and everything below it; files another process removed meanwhile are fine. */
    static void deleteTree(Path dir) throws IOException {
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
