package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

class LocalStoreTest extends ArtifactStoreContract {

    /** No process has this pid, so directories named after it belong to a run that died. */
    static final String DEAD_OWNER = "2147483646-1";

    @TempDir
    Path work;
    final LocalStore store = new LocalStore();

    @Override
    protected ArtifactStore store() {
        return store;
    }

    @Override
    protected Location newLocation(String name) {
        return Location.of(work.resolve(name));
    }

    @Override
    protected void writeRaw(Location location, String name, String content) throws IOException {
        Files.createDirectories(location.path());
        Files.writeString(location.path().resolve(name), content);
    }

    private List<String> hiddenEntries() throws IOException {
        try (Stream<Path> entries = Files.list(work)) {
            return entries.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(".")).sorted().toList();
        }
    }

    @Test
    void aStagingDirectoryOfADeadRunIsRemovedByTheNextRunIntoTheSameOutput() throws IOException {
        Path leftover = Files.createDirectories(work.resolve(".dataset.staging-" + DEAD_OWNER + "-0a1b2c3d"));
        Files.writeString(leftover.resolve("train-00000.safetensors"), "tens of MB, half written");
        publish(newLocation("dataset"), Map.of(COMMIT, "m"));
        assertEquals(List.of(), hiddenEntries(), "the leftover is gone and nothing new is left behind");
    }

    @Test
    void aStagingDirectoryOfALiveRunIsLeftAlone() throws IOException {
        Location dataset = newLocation("dataset");
        try (ArtifactStore.Staging inProgress = store.stage(dataset, COMMIT)) {
            publish(newLocation("dataset-2"), Map.of(COMMIT, "m")); // another run in the same parent directory
            assertTrue(Files.isDirectory(inProgress.dir()));
        }
        assertEquals(List.of(), hiddenEntries());
    }

    @Test
    void aPublishInterruptedBetweenTwoRenamesIsFinishedByTheNextReader() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "labels: 2", "model.safetensors", "2-label weights", "old.txt", "stale"));
        // A run died after removing the old commit object and moving the weights, before moving the new config.
        Path publishing = Files.createDirectories(work.resolve(".model.publishing-" + DEAD_OWNER + "-00ff00ff"));
        Files.writeString(publishing.resolve(COMMIT), "labels: 3");
        new ObjectMapper().writeValue(publishing.resolve(LocalStore.JOURNAL).toFile(),
                new LocalStore.Journal(COMMIT, List.of(COMMIT, "model.safetensors"), true));
        Files.delete(model.path().resolve(COMMIT));
        Files.writeString(model.path().resolve("model.safetensors"), "3-label weights");

        assertEquals(Map.of(COMMIT, "labels: 3", "model.safetensors", "3-label weights"), read(store.fetchSet(model, COMMIT)));
        assertEquals(List.of(), hiddenEntries());
    }

    @Test
    void aPublishThatDiedBeforeTouchingTheDestinationStillCompletes() throws IOException {
        Location dataset = newLocation("dataset");
        publish(dataset, Map.of(COMMIT, "m1", "train-00000.safetensors", "old"));
        Path publishing = Files.createDirectories(work.resolve(".dataset.publishing-" + DEAD_OWNER + "-12345678"));
        Files.writeString(publishing.resolve(COMMIT), "m2");
        Files.writeString(publishing.resolve("train-00000.safetensors"), "new");
        new ObjectMapper().writeValue(publishing.resolve(LocalStore.JOURNAL).toFile(),
                new LocalStore.Journal(COMMIT, List.of(COMMIT, "train-00000.safetensors"), true));
        assertEquals(Map.of(COMMIT, "m2", "train-00000.safetensors", "new"), read(store.fetchSet(dataset, COMMIT)));
    }

    @Test
    void aDatasetThatAnEarlierVersionLeftOnlyUnderItsPreviousNameIsRestored() throws IOException {
        Path previous = Files.createDirectories(work.resolve(".dataset.staging-8812345-previous"));
        Files.writeString(previous.resolve(COMMIT), "the only copy");
        assertEquals(Map.of(COMMIT, "the only copy"), read(store.fetchSet(newLocation("dataset"), COMMIT)));
        assertFalse(Files.exists(previous));
    }

    @Test
    void aFileCannotBeAnOutputDirectory() throws IOException {
        Path file = Files.writeString(work.resolve("model"), "not a directory");
        StorageException e = org.junit.jupiter.api.Assertions.assertThrows(StorageException.class,
                () -> store.stage(Location.of(file), COMMIT));
        assertTrue(e.getMessage().contains("is a file"), e.getMessage());
    }
}
