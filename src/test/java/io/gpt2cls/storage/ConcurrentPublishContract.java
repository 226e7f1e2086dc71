package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * Several writers of one location, checked against each store: one publisher at a time, the other
 * refused with the holder's name and nothing written, and every committed set exactly one writer's.
 * Each set's commit object names its writer and the SHA-256 of each of its files, so a reader can
 * tell a whole set from a mix (as a dataset's manifest lists its shards' hashes).
 */
public abstract class ConcurrentPublishContract {

    static final String COMMIT = "config.json";
    static final ObjectMapper JSON = new ObjectMapper();

    /** A store as one writer (another process, in production) has it. */
    protected abstract ArtifactStore newWriter() throws IOException;

    /** A fresh location for one test. */
    protected abstract Location newLocation(String name) throws IOException;

    /**
     * The writer of the set a reader reads now. S3 readers get a private copy, each file the version
     * listed; a local reader reads the directory in place, so it checks the set's version before and
     * after (a publish that replaced files meanwhile changes it) and reads again.
     */
    protected String readWhole(ArtifactStore reader, Location location) throws IOException {
        return writerOf(reader.fetchSet(location, COMMIT));
    }

    /** Every name at or beside the location that is not part of a committed set: what a writer left behind. */
    protected abstract List<String> leftovers(Location location) throws IOException;

    /** Writes {@code files} (name -> bytes) and a commit object naming {@code writer} and their hashes into the staging. */
    static void fill(ArtifactStore.Staging staging, String writer, Map<String, byte[]> files) throws IOException {
        Map<String, String> hashes = new TreeMap<>();
        for (Map.Entry<String, byte[]> file : files.entrySet()) {
            Files.write(staging.dir().resolve(file.getKey()), file.getValue());
            hashes.put(file.getKey(), TextTokenizer.sha256(file.getValue()));
        }
        Files.write(staging.dir().resolve(COMMIT), JSON.writeValueAsBytes(Map.of("writer", writer, "files", hashes)));
    }

    static Map<String, byte[]> files(String writer, int count, int maxBytes, long seed) {
        Random random = new Random(seed);
        Map<String, byte[]> files = new TreeMap<>();
        for (int i = 0; i < count; i++) {
            byte[] data = new byte[1 + random.nextInt(maxBytes)];
            random.nextBytes(data);
            files.put("part-" + i + ".bin", data);
        }
        return files;
    }

    /** The writer of the whole set in {@code dir}; fails when any file is not the one its commit object names, or extra. */
    static String writerOf(Path dir) throws IOException {
        JsonNode commit = JSON.readTree(dir.resolve(COMMIT).toFile());
        List<String> names = new ArrayList<>();
        try (Stream<Path> entries = Files.list(dir)) {
            entries.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".") && !n.equals(COMMIT)).sorted().forEach(names::add);
        }
        List<String> expected = new ArrayList<>();
        commit.path("files").fieldNames().forEachRemaining(expected::add);
        assertEquals(expected, names, "the set holds exactly the files its commit object names");
        for (String name : names) {
            assertEquals(commit.path("files").path(name).asText(), TextTokenizer.sha256(Files.readAllBytes(dir.resolve(name))),
                    name + " is the file " + commit.path("writer").asText() + " wrote: no mix");
        }
        return commit.path("writer").asText();
    }

    static void publish(ArtifactStore store, Location location, String writer, Map<String, byte[]> files) throws IOException {
        try (ArtifactStore.Staging staging = store.stage(location, COMMIT)) {
            fill(staging, writer, files);
            staging.commit();
        }
    }

    @ParameterizedTest(name = "over an earlier set: {0}")
    @ValueSource(booleans = {false, true})
    void aSecondPublisherIsRefusedNamingTheFirstAndLeavesNothing(boolean earlierSet) throws IOException {
        ArtifactStore first = newWriter();
        ArtifactStore second = newWriter();
        Location model = newLocation("model");
        if (earlierSet) {
            publish(first, model, "earlier", files("earlier", 3, 1000, 1));
        }
        List<String> before = leftovers(model);
        try (ArtifactStore.Staging staging = first.stage(model, COMMIT, "the first publish")) {
            fill(staging, "first", files("first", 3, 1000, 2));

            PublishConflictException refused = assertThrows(PublishConflictException.class,
                    () -> second.stage(model, COMMIT, "the second publish"));
            LeaseRecord holder = refused.holder().orElseThrow();
            assertEquals("the first publish", holder.purpose());
            assertTrue(refused.getMessage().contains("run " + holder.run()) && refused.getMessage().contains("since " + holder.since()),
                    refused.getMessage());

            staging.commit();
        }
        assertEquals(before, leftovers(model), "the refused publisher left nothing behind, the first cleaned up after itself");
        assertEquals("first", writerOf(first.fetchSet(model, COMMIT)));

        publish(second, model, "second", files("second", 2, 1000, 3));
        assertEquals("second", writerOf(newWriter().fetchSet(model, COMMIT)), "once the first is done, the second publishes");
    }

    @ParameterizedTest(name = "the publisher that stopped is the {0}")
    @ValueSource(strings = {"first", "second"})
    void aPublisherThatGivesUpLeavesTheSetAsItWasAndTheOtherPublishes(String quitter) throws IOException {
        ArtifactStore a = newWriter();
        ArtifactStore b = newWriter();
        Location model = newLocation("model");
        publish(a, model, "earlier", files("earlier", 2, 1000, 4));
        ArtifactStore gives = quitter.equals("first") ? a : b;
        ArtifactStore completes = quitter.equals("first") ? b : a;
        try (ArtifactStore.Staging staging = gives.stage(model, COMMIT)) {
            fill(staging, "quitter", files("quitter", 2, 1000, 5));
            assertThrows(PublishConflictException.class, () -> completes.stage(model, COMMIT));
            // no commit: the work failed
        }
        assertEquals("earlier", writerOf(completes.fetchSet(model, COMMIT)));
        publish(completes, model, "completes", files("completes", 2, 1000, 6));
        assertEquals("completes", writerOf(gives.fetchSet(model, COMMIT)));
    }

    @Test
    void aDeleteWaitsItsTurnLikeAPublish() throws IOException {
        ArtifactStore a = newWriter();
        ArtifactStore b = newWriter();
        Location checkpoint = newLocation("out").resolve("checkpoint-10");
        publish(a, checkpoint, "a", files("a", 1, 100, 7));
        try (ArtifactStore.Staging staging = a.stage(checkpoint, COMMIT)) {
            fill(staging, "a2", files("a2", 1, 100, 8));
            assertThrows(PublishConflictException.class, () -> b.deleteSet(checkpoint, COMMIT));
            staging.commit();
        }
        b.deleteSet(checkpoint, COMMIT);
        assertFalse(a.exists(checkpoint, COMMIT));
    }

    @Test
    void aRunLeaseIsExclusiveAndFreeAgainWhenClosed() throws IOException {
        ArtifactStore a = newWriter();
        ArtifactStore b = newWriter();
        Location output = newLocation("models");
        try (ArtifactStore.Lease lease = a.lease(output, "run", "finetune of dataset 1234", null)) {
            PublishConflictException refused = assertThrows(PublishConflictException.class,
                    () -> b.lease(output, "run", "finetune of dataset 1234", null));
            assertEquals(lease.record().token(), refused.holder().orElseThrow().token());
            publish(b, output, "final model", files("final", 1, 100, 9)); // the run's lease is not the publish lease
        }
        try (ArtifactStore.Lease lease = b.lease(output, "run", "finetune of dataset 5678", null)) {
            lease.check();
        }
    }

    /**
     * Several publishers race for one location, round after round, while a reader reads it: every
     * set read and the last one are exactly one writer's, and every publisher's rounds were committed
     * (a refused one tries again).
     */
    @Test
    void concurrentPublishersNeverLeaveAMix() throws Exception {
        int writers = 4;
        int rounds = 4;
        Location dataset = newLocation("dataset");
        List<ArtifactStore> stores = new ArrayList<>();
        for (int i = 0; i < writers + 1; i++) {
            stores.add(newWriter());
        }
        AtomicInteger committed = new AtomicInteger();
        AtomicInteger refusals = new AtomicInteger();
        AtomicBoolean done = new AtomicBoolean();
        Map<String, Integer> seen = new ConcurrentHashMap<>();
        ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
        try {
            List<Future<?>> futures = new ArrayList<>();
            for (int w = 0; w < writers; w++) {
                int writer = w;
                futures.add(pool.submit(() -> {
                    Random random = new Random(writer);
                    for (int round = 0; round < rounds; round++) {
                        String name = "writer-" + writer + "-round-" + round;
                        for (int attempt = 1; ; attempt++) {
                            try {
                                publish(stores.get(writer), dataset, name, files(name, 1 + random.nextInt(4), 64 * 1024, 31L * writer + round));
                                committed.incrementAndGet();
                                break;
                            } catch (PublishConflictException busy) {
                                refusals.incrementAndGet();
                                if (attempt > 400) {
                                    throw busy;
                                }
                                Thread.sleep(5 + random.nextInt(20));
                            }
                        }
                    }
                    return null;
                }));
            }
            Future<?> reader = pool.submit(() -> {
                while (!done.get()) {
                    try {
                        seen.merge(readWhole(stores.get(writers), dataset), 1, Integer::sum);
                    } catch (ArtifactNotFoundException | PublishConflictException notNow) {
                        // nothing committed yet, or being published: both fine, a mix is not
                    }
                }
                return null;
            });
            for (Future<?> future : futures) {
                future.get(120, TimeUnit.SECONDS);
            }
            done.set(true);
            reader.get(60, TimeUnit.SECONDS);
        } finally {
            done.set(true);
            pool.shutdownNow();
        }
        assertEquals(writers * rounds, committed.get());
        String last = writerOf(newWriter().fetchSet(dataset, COMMIT));
        assertTrue(last.startsWith("writer-"), last);
        assertEquals(List.of(), leftovers(dataset), "nothing left behind");
        System.out.printf("%d publishes, %d refusals, %d whole sets read%n", committed.get(), refusals.get(),
                seen.values().stream().mapToInt(Integer::intValue).sum());
        if (seen.isEmpty()) {
            fail("the reader never read a set");
        }
    }
}
