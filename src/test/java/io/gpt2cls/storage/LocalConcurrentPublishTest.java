package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.io.TempDir;

/** Concurrent publishers on the local store: each writer a store of its own (one process: threads; see LocalPublishInterleavingTest for processes). */
class LocalConcurrentPublishTest extends ConcurrentPublishContract {

    @TempDir
    Path work;

    @Override
    protected ArtifactStore newWriter() {
        return new LocalStore(new LeaseSettings(java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(5)));
    }

    @Override
    protected Location newLocation(String name) {
        return Location.of(work.resolve(name));
    }

    /** In place: a read counts only when the set's version did not change while it was read. */
    @Override
    protected String readWhole(ArtifactStore reader, Location location) throws IOException {
        for (int attempt = 1; ; attempt++) {
            try {
                String before = reader.version(location, COMMIT);
                String writer;
                try {
                    writer = writerOf(reader.fetchSet(location, COMMIT));
                } catch (AssertionError mixed) {
                    if (before.equals(reader.version(location, COMMIT))) {
                        throw mixed; // a mix that no publish explains
                    }
                    continue; // a publish replaced the set while it was read, as its version says: read again
                }
                if (before.equals(reader.version(location, COMMIT))) {
                    return writer;
                }
            } catch (java.nio.file.NoSuchFileException replaced) {
                if (attempt > 1000) {
                    throw replaced;
                }
                // a file went while it was listed or read: a publish is replacing the set
            }
        }
    }

    @Override
    protected List<String> leftovers(Location location) throws IOException {
        try (Stream<Path> walk = Files.walk(location.path().getParent())) {
            return walk.map(p -> work.relativize(p).toString()).filter(p -> p.startsWith(".") || p.contains("/.")).sorted().toList();
        }
    }
}
