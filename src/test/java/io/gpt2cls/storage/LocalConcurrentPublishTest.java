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

    @Override
    protected List<String> leftovers(Location location) throws IOException {
        try (Stream<Path> walk = Files.walk(location.path().getParent())) {
            return walk.map(p -> work.relativize(p).toString()).filter(p -> p.startsWith(".") || p.contains("/.")).sorted().toList();
        }
    }
}
