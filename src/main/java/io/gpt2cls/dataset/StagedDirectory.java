package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A directory built beside its destination and moved into place only when complete: until
 * {@link #commit()} the destination is untouched, and closing without a commit deletes the staging
 * directory, so a failed run leaves neither half-written output nor a damaged previous one.
 */
final class StagedDirectory implements AutoCloseable {

    private final Path destination;
    private final Path staging;
    private boolean committed;

    private StagedDirectory(Path destination, Path staging) {
        this.destination = destination;
        this.staging = staging;
    }

    /** A sibling of {@code destination}, so the final moves are renames within one file system. */
    static StagedDirectory beside(Path destination) throws IOException {
        Path target = destination.toAbsolutePath().normalize();
        Files.createDirectories(target.getParent());
        Path staging = Files.createTempDirectory(target.getParent(), "." + target.getFileName() + ".staging-");
        return new StagedDirectory(target, staging);
    }

    Path path() {
        return staging;
    }

    /** Moves the staged directory into place; a previous destination is set aside first and deleted last. */
    void commit() throws IOException {
        if (Files.exists(destination)) {
            Path previous = staging.resolveSibling(staging.getFileName() + "-previous");
            Files.move(destination, previous, StandardCopyOption.ATOMIC_MOVE);
            try {
                Files.move(staging, destination, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                Files.move(previous, destination, StandardCopyOption.ATOMIC_MOVE);
                throw e;
            }
            committed = true;
            deleteRecursively(previous);
        } else {
            Files.move(staging, destination, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
        }
    }

    @Override
    public void close() throws IOException {
        if (!committed) {
            deleteRecursively(staging);
        }
    }

    private static void deleteRecursively(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) paths.sorted(Comparator.reverseOrder())::iterator) {
                Files.delete(path);
            }
        }
    }
}
