package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

/**
 * What every {@link ArtifactStore} promises, checked against each implementation: a set is
 * complete or absent for its readers, replacing one never shows a mix, and an abandoned write
 * leaves the previous set as it was.
 */
public abstract class ArtifactStoreContract {

    static final String COMMIT = "config.json";

    /** The store under test. */
    protected abstract ArtifactStore store();

    /** A fresh location for one test. */
    protected abstract Location newLocation(String name) throws IOException;

    /** Writes a file at {@code location/name} directly, bypassing the protocol (what a writer that died left). */
    protected abstract void writeRaw(Location location, String name, String content) throws IOException;

    protected void publish(Location location, Map<String, String> files) throws IOException {
        try (ArtifactStore.Staging staging = store().stage(location, COMMIT)) {
            for (Map.Entry<String, String> file : files.entrySet()) {
                Files.writeString(staging.dir().resolve(file.getKey()), file.getValue());
            }
            staging.commit();
        }
    }

    protected static Map<String, String> read(Path dir) throws IOException {
        Map<String, String> files = new TreeMap<>();
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path file : entries.filter(Files::isRegularFile).toList()) {
                if (!file.getFileName().toString().startsWith(".")) {
                    files.put(file.getFileName().toString(), Files.readString(file));
                }
            }
        }
        return files;
    }

    /**
     * Two publishers of one set at once: the second waits for the first's set and writes nothing; had the
     * first gone without publishing, the second would publish itself (PrepareDistributedTest).
     */
    @Test
    void publishOnceWaitsForTheHoldersSetInsteadOfWritingItsOwn() throws Exception {
        Location location = newLocation("once");
        java.util.concurrent.CompletableFuture<Boolean> second;
        try (ArtifactStore.Staging first = store().stage(location, COMMIT, "the first publisher")) {
            second = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return store().publishOnce(location, COMMIT, "the second publisher", java.time.Duration.ofSeconds(60),
                            dir -> Files.writeString(dir.resolve(COMMIT), "second"));
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
            Thread.sleep(3_000);
            assertFalse(second.isDone(), "the second waits while the first holds the lease");
            Files.writeString(first.dir().resolve(COMMIT), "first");
            first.commit();
        }
        assertFalse(second.get(30, java.util.concurrent.TimeUnit.SECONDS), "it did not publish");
        assertEquals(Map.of(COMMIT, "first"), read(store().fetchSet(location, COMMIT)));
        assertFalse(store().publishOnce(location, COMMIT, "a third", java.time.Duration.ZERO, dir -> {
            throw new AssertionError("a set that is there is not written again");
        }));
    }

    @Test
    void aRangeReadGivesItsBytesOfThePlannedVersionOnly() throws IOException {
        Location dir = newLocation("ranges");
        writeRaw(dir, "big.jsonl", "0123456789abcdefghij");
        Location file = dir.resolve("big.jsonl");
        ArtifactStore.FileInfo info = store().fileInfo(file);
        assertEquals(20, info.bytes());
        try (java.io.InputStream in = store().openRange(file, info.version(), 5, 7)) {
            assertEquals("56789ab", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8));
        }
        try (java.io.InputStream in = store().openRange(file, info.version(), 15, 100)) {
            assertEquals("fghij", new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), "fewer at the end");
        }
        try (java.io.InputStream in = store().openRange(file, info.version(), 20, 4)) {
            assertEquals(0, in.readAllBytes().length, "none past it");
        }
        writeRaw(dir, "big.jsonl", "replaced meanwhile, longer");
        StorageException replaced = assertThrows(StorageException.class,
                () -> store().openRange(file, info.version(), 0, 4).close());
        assertTrue(replaced.getMessage().contains("was replaced after it was planned"), replaced.getMessage());
    }

    @Test
    void aFileFetchedAtAVersionIsThatVersionOrRefused() throws IOException {
        Location dir = newLocation("versioned");
        writeRaw(dir, "whole.jsonl", "first version");
        Location file = dir.resolve("whole.jsonl");
        String version = store().fileVersion(file);
        Path fetched = store().fetchFile(file, version);
        assertEquals("first version", java.nio.file.Files.readString(fetched));
        store().release(fetched);
        writeRaw(dir, "whole.jsonl", "the second, longer version");
        StorageException replaced = assertThrows(StorageException.class, () -> store().fetchFile(file, version));
        assertTrue(replaced.getMessage().contains("was replaced after it was planned"), replaced.getMessage());
    }

    @Test
    void aCommittedSetIsReadBackWhole() throws IOException {
        Location model = newLocation("model");
        assertFalse(store().exists(model, COMMIT));
        publish(model, Map.of(COMMIT, "{\"v\": 1}", "model.safetensors", "weights-1", "tokenizer.json", "tok"));
        assertTrue(store().exists(model, COMMIT));
        assertEquals(Map.of(COMMIT, "{\"v\": 1}", "model.safetensors", "weights-1", "tokenizer.json", "tok"),
                read(store().fetchSet(model, COMMIT)));
    }

    @Test
    void aStagingClosedWithoutCommitLeavesThePreviousSetAsItWas() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "old", "model.safetensors", "old-weights"));
        try (ArtifactStore.Staging staging = store().stage(model, COMMIT)) {
            Files.writeString(staging.dir().resolve("model.safetensors"), "new-weights");
            // the writer fails before its commit
        }
        assertEquals(Map.of(COMMIT, "old", "model.safetensors", "old-weights"), read(store().fetchSet(model, COMMIT)));
    }

    @Test
    void replacingASetRemovesFilesTheNewSetDoesNotHave() throws IOException {
        Location dataset = newLocation("dataset");
        publish(dataset, Map.of(COMMIT, "m1", "train-00000.safetensors", "a", "train-00001.safetensors", "b"));
        publish(dataset, Map.of(COMMIT, "m2", "train-00000.safetensors", "c"));
        assertEquals(Map.of(COMMIT, "m2", "train-00000.safetensors", "c"), read(store().fetchSet(dataset, COMMIT)));
    }

    @Test
    void dataWithoutItsCommitObjectIsNotASet() throws IOException {
        Location checkpoint = newLocation("out").resolve("checkpoint-7");
        writeRaw(checkpoint, "model.safetensors", "half-written");
        assertFalse(store().exists(checkpoint, COMMIT));
        ArtifactNotFoundException missing = assertThrows(ArtifactNotFoundException.class,
                () -> store().fetchSet(checkpoint, COMMIT));
        assertTrue(missing.getMessage().contains(checkpoint.toString()), missing.getMessage());
    }

    @Test
    void listingFindsOnlyCommittedSetsBelowALocation() throws IOException {
        Location out = newLocation("out");
        publish(out.resolve("checkpoint-10"), Map.of(COMMIT, "10"));
        publish(out.resolve("checkpoint-20"), Map.of(COMMIT, "20"));
        writeRaw(out.resolve("checkpoint-30"), "model.safetensors", "no commit yet");
        publish(out, Map.of(COMMIT, "final"));
        assertEquals(List.of("checkpoint-10", "checkpoint-20"), store().listSets(out, COMMIT));
    }

    @Test
    void replacingTheRootSetLeavesTheSetsBelowIt() throws IOException {
        Location out = newLocation("out");
        publish(out.resolve("checkpoint-10"), Map.of(COMMIT, "10", "model.safetensors", "w10"));
        publish(out, Map.of(COMMIT, "final-1", "model.safetensors", "w-final-1"));
        publish(out, Map.of(COMMIT, "final-2", "model.safetensors", "w-final-2"));
        assertEquals(Map.of(COMMIT, "10", "model.safetensors", "w10"), read(store().fetchSet(out.resolve("checkpoint-10"), COMMIT)));
        assertEquals(Map.of(COMMIT, "final-2", "model.safetensors", "w-final-2"), read(store().fetchSet(out, COMMIT)));
    }

    @Test
    void aDeletedSetIsGoneAndItsNeighboursStay() throws IOException {
        Location out = newLocation("out");
        publish(out.resolve("checkpoint-1"), Map.of(COMMIT, "1"));
        publish(out.resolve("checkpoint-2"), Map.of(COMMIT, "2"));
        store().deleteSet(out.resolve("checkpoint-1"), COMMIT);
        assertFalse(store().exists(out.resolve("checkpoint-1"), COMMIT));
        assertEquals(List.of("checkpoint-2"), store().listSets(out, COMMIT));
    }

    @Test
    void filesBelowAPrefixAreListedByNameWithoutTheSetsBelowIt() throws IOException {
        Location raw = newLocation("raw");
        writeRaw(raw, "part-00001.parquet", "b");
        writeRaw(raw, "part-00000.parquet", "a");
        publish(raw.resolve("prepared"), Map.of(COMMIT, "m"));
        assertEquals(List.of(raw.resolve("part-00000.parquet"), raw.resolve("part-00001.parquet")), store().listFiles(raw));
        assertEquals(List.of(), store().listFiles(newLocation("nothing-here")));
    }

    @Test
    void aSingleFileIsFetchedAndAMissingOneNamed() throws IOException {
        Location dir = newLocation("raw");
        writeRaw(dir, "train.jsonl", "{\"text\": \"a\", \"label\": 1}\n");
        assertEquals("{\"text\": \"a\", \"label\": 1}\n", Files.readString(store().fetchFile(dir.resolve("train.jsonl"))));
        ArtifactNotFoundException missing = assertThrows(ArtifactNotFoundException.class,
                () -> store().fetchFile(dir.resolve("test.jsonl")));
        assertTrue(missing.getMessage().contains("test.jsonl"), missing.getMessage());
    }

    @Test
    void aSetKeepsItsVersionUntilAPublishChangesIt() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "v1", "model.safetensors", "weights-1"));
        String first = store().version(model, COMMIT);
        store().fetchSet(model, COMMIT);
        assertEquals(first, store().version(model, COMMIT), "reading a set leaves its version");
        publish(model, Map.of(COMMIT, "v2", "model.safetensors", "weights-2"));
        assertNotEquals(first, store().version(model, COMMIT));
    }

    @Test
    void aLocationWithoutACommittedSetHasNoVersion() throws IOException {
        Location model = newLocation("model");
        writeRaw(model, "model.safetensors", "weights without their config.json");
        assertThrows(ArtifactNotFoundException.class, () -> store().version(model, COMMIT));
    }

    @Test
    void aReleasedSetIsStillThereToFetchAgain() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "v1", "model.safetensors", "weights-1"));
        store().release(store().fetchSet(model, COMMIT));
        assertEquals(Map.of(COMMIT, "v1", "model.safetensors", "weights-1"), read(store().fetchSet(model, COMMIT)));
    }
}
