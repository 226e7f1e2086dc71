package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.S3CacheBudgetTest;
import io.gpt2cls.storage.S3ProxyTestResource;
import io.gpt2cls.storage.S3Settings;
import io.gpt2cls.storage.S3Store;

/**
 * classify as deployed: the model under an S3 prefix, loaded at start-up through the store's cache,
 * and a new version published there replaces it, the old version's cached files deleted.
 */
class ClassifyFromS3Test {

    static final S3ProxyTestResource S3 = new S3ProxyTestResource();
    static final Location MODEL = Location.parse("s3://" + S3ProxyTestResource.BUCKET + "/models/spam");

    @TempDir
    static Path work;
    static Path v1;
    static Path v2;

    @BeforeAll
    static void start() throws IOException {
        S3.init(Map.of());
        S3.start();
        v1 = TestModels.randomTinyModel(work.resolve("v1"), 1, ClassifyServiceTest.LABELS);
        v2 = TestModels.randomTinyModel(work.resolve("v2"), 2, ClassifyServiceTest.LABELS);
    }

    @AfterAll
    static void stop() {
        S3.stop();
    }

    static void publish(ArtifactStore store, Path version) throws IOException {
        publish(store, MODEL, version);
    }

    static void publish(ArtifactStore store, Location location, Path version) throws IOException {
        try (ArtifactStore.Staging staging = store.stage(location, ModelCheckpoint.CONFIG_FILE)) {
            try (Stream<Path> files = Files.list(version)) {
                for (Path file : files.toList()) {
                    Files.copy(file, staging.dir().resolve(file.getFileName()));
                }
            }
            staging.commit();
        }
    }

    /** A service that loads {@code model} from S3 while it starts and looks for new versions every {@code refreshInterval}. */
    static ClassifyService service(S3Store s3, Location model, Duration refreshInterval) {
        ClassifyService service = new ClassifyService();
        service.store = new RoutingStore(new LocalStore(), () -> s3, List.of(Location.parse("s3://" + S3ProxyTestResource.BUCKET + "/models")));
        TestConfig config = new TestConfig();
        config.model = model.toString();
        config.loadOnStart = true;
        config.refreshInterval = refreshInterval;
        service.config = config;
        return service;
    }

    /** v2 with its weights cut in half, as an interrupted copy leaves them. */
    static Path corrupt(Path dir) throws IOException {
        Files.createDirectories(dir);
        try (Stream<Path> files = Files.list(v2)) {
            for (Path file : files.toList()) {
                Files.copy(file, dir.resolve(file.getFileName()));
            }
        }
        Path weights = dir.resolve(ModelCheckpoint.WEIGHTS_FILE);
        byte[] bytes = Files.readAllBytes(weights);
        Files.write(weights, java.util.Arrays.copyOf(bytes, bytes.length / 2));
        return dir;
    }

    static long size(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.mapToLong(file -> file.toFile().length()).sum();
        }
    }

    /** Cached downloads of {@code name}, one per ETag kept. */
    static long cachedCopies(Path cache, String name) throws IOException {
        try (Stream<Path> files = Files.walk(cache.resolve("objects"))) {
            return files.filter(f -> Files.isRegularFile(f) && f.getFileName().toString().equals(name)).count();
        }
    }

    @Test
    void aModelOnS3IsLoadedAtStartAndANewVersionReplacesItAndItsCachedFiles() throws Exception {
        Path cache = work.resolve("cache");
        try (S3Store s3 = S3Store.create(S3Settings.defaults().withCacheDir(cache))) {
            publish(s3, v1);
            ClassifyService service = service(s3, MODEL, Duration.ofMillis(100));
            try {
                service.start();
                assertEquals(1, service.loads(), "loaded while starting, before any request");
                ClassifyRequest request = ClassifyServiceTest.request(ClassifyServiceTest.TEXTS.get(1));
                ClassifyResponse first = service.classify(request);
                assertEquals(MODEL.toString(), first.model);
                TextClassifier old = service.servedModel();

                publish(s3, v2);
                ClassifyServiceTest.await(() -> !service.servedModel().version().equals(first.modelVersion), "the new version serves");
                ClassifyServiceTest.await(old::isClosed, "the old version is closed");
                ClassifyServiceTest.await(() -> copies(cache, ModelCheckpoint.WEIGHTS_FILE) == 1, "the old version's weights leave the cache");

                ClassifyResponse second = service.classify(request);
                assertNotEquals(first.modelVersion, second.modelVersion);
                assertEquals(s3.version(MODEL, ModelCheckpoint.CONFIG_FILE), second.modelVersion);
                assertArrayEquals(ClassifyServiceTest.reference(v2).get(request.text), ClassifyServiceTest.probabilities(second.results.get(0)),
                        1e-6f);
                assertEquals(1, cachedCopies(cache, "tokenizer.json"), "the tokenizer both versions share is cached once");
                assertEquals(2, service.loads());
            } finally {
                service.close();
            }
        }
    }

    @Test
    void aCorruptPublishIsRefusedWithItsFilesDeletedAndTheNextGoodOneServesWithinTheCacheBudget() throws Exception {
        Path cache = work.resolve("cache-within-budget");
        long budget = 2 * size(v1) + size(v1) / 2; // two versions side by side during a swap, never three
        Location location = Location.parse("s3://" + S3ProxyTestResource.BUCKET + "/models/corrupted");
        try (S3Store s3 = S3Store.create(S3Settings.defaults().withCacheDir(cache).withCacheMaxSize(budget))) {
            publish(s3, location, v1);
            ClassifyService service = service(s3, location, Duration.ofMillis(200));
            try {
                service.start();
                ClassifyRequest request = ClassifyServiceTest.request(ClassifyServiceTest.TEXTS.get(1));
                String version1 = service.classify(request).modelVersion;

                publish(s3, location, corrupt(work.resolve("corrupt")));
                ClassifyServiceTest.await(() -> service.failedLoads() >= 3, "three refreshes failed to load the corrupt version");
                assertEquals(version1, service.classify(request).modelVersion, "the loaded version serves on");
                ClassifyServiceTest.await(() -> copies(cache, ModelCheckpoint.WEIGHTS_FILE) == 1, "the corrupt weights leave the cache");
                assertTrue(S3CacheBudgetTest.cachedBytes(cache) <= budget, "over the budget: " + S3CacheBudgetTest.cachedBytes(cache));

                publish(s3, location, v2);
                String version2 = s3.version(location, ModelCheckpoint.CONFIG_FILE);
                ClassifyServiceTest.await(() -> service.servedModel().version().equals(version2), "the good version serves");
                ClassifyServiceTest.await(() -> copies(cache, ModelCheckpoint.WEIGHTS_FILE) == 1, "the replaced weights leave the cache");
                assertTrue(S3CacheBudgetTest.cachedBytes(cache) <= budget);
                assertArrayEquals(ClassifyServiceTest.reference(v2).get(request.text),
                        ClassifyServiceTest.probabilities(service.classify(request).results.get(0)), 1e-6f);
                assertEquals(2, service.loads());
            } finally {
                service.close();
            }
        }
    }

    static long copies(Path cache, String name) {
        try {
            return cachedCopies(cache, name);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
