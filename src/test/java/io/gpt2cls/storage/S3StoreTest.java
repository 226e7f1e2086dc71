package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.SdkHttpResponse;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/** The store contract against a real S3-compatible server (S3Proxy), plus what only S3 has: parts, ETags, the cache. */
class S3StoreTest extends ArtifactStoreContract {

    static final String BUCKET = "gpt2cls-store-test";

    @RegisterExtension
    static final S3ProxyExtension S3 = S3ProxyExtension.shared();

    @TempDir
    Path cacheDir;
    S3Client raw;
    S3Store store;
    String testPrefix;
    /** GET requests the store sent, by key. */
    final Map<String, AtomicInteger> gets = new java.util.concurrent.ConcurrentHashMap<>();
    final AtomicInteger uploadedParts = new AtomicInteger();

    @BeforeAll
    static void bucket() {
        S3.server().ensureBucket(BUCKET);
    }

    @BeforeEach
    void open(TestInfo test) {
        raw = S3.server().client();
        store = newStore(settings());
        testPrefix = test.getTestMethod().orElseThrow().getName();
    }

    @AfterEach
    void close() {
        store.close();
        raw.close();
    }

    S3Settings settings() {
        return S3Settings.defaults().withCacheDir(cacheDir).withEndpoint(Optional.of(S3.server().endpoint()))
                .withMultipart(S3Settings.MIN_PART_SIZE, S3Settings.MIN_PART_SIZE).withMaxAttempts(2);
    }

    S3Store newStore(S3Settings settings) {
        return S3Store.create(settings, clientFor(S3.server(), new ExecutionInterceptor() {
            @Override
            public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof GetObjectRequest get) {
                    gets.computeIfAbsent(get.key(), k -> new AtomicInteger()).incrementAndGet();
                } else if (context.request() instanceof UploadPartRequest) {
                    uploadedParts.incrementAndGet();
                }
            }
        }));
    }

    /** The server's credentials, and {@code interceptor} added to the store's own client configuration. */
    static Consumer<S3ClientBuilder> clientFor(S3ProxyServer server, ExecutionInterceptor interceptor) {
        return builder -> builder.credentialsProvider(S3ProxyServer.credentials())
                .overrideConfiguration(builder.overrideConfiguration().toBuilder().addExecutionInterceptor(interceptor).build());
    }

    @Override
    protected ArtifactStore store() {
        return store;
    }

    @Override
    protected Location newLocation(String name) {
        return Location.parse("s3://" + BUCKET + "/" + testPrefix + "/" + name);
    }

    @Override
    protected void writeRaw(Location location, String name, String content) {
        raw.putObject(b -> b.bucket(location.bucket()).key(location.resolve(name).key()), RequestBody.fromString(content));
    }

    int gets(Location object) {
        AtomicInteger count = gets.get(object.key());
        return count == null ? 0 : count.get();
    }

    static byte[] randomBytes(int size, long seed) {
        byte[] bytes = new byte[size];
        new Random(seed).nextBytes(bytes);
        return bytes;
    }

    @Test
    void aLargeFileIsUploadedInPartsAndReadBackByteForByte() throws IOException {
        Location model = newLocation("model");
        byte[] weights = randomBytes(12 * 1024 * 1024 + 17, 1); // 3 parts of 5 MiB, the last one short
        try (ArtifactStore.Staging staging = store.stage(model, COMMIT)) {
            Files.write(staging.dir().resolve("model.safetensors"), weights);
            Files.writeString(staging.dir().resolve(COMMIT), "{}");
            staging.commit();
        }
        assertEquals(3, uploadedParts.get());
        Path fetched = store.fetchSet(model, COMMIT);
        assertEquals(-1, Files.mismatch(fetched.resolve("model.safetensors"), writeTemp(weights)));
    }

    private Path writeTemp(byte[] bytes) throws IOException {
        return Files.write(Files.createTempFile(cacheDir, "expected", ".bin"), bytes);
    }

    @Test
    void aWarmProcessDownloadsEachObjectVersionOnce() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "v1", "model.safetensors", "weights-1", "tokenizer.json", "tok"));

        Path first = store.fetchSet(model, COMMIT);
        Path second = store.fetchSet(model, COMMIT);
        Path single = store.fetchFile(model.resolve("tokenizer.json"));
        assertEquals(first, second);
        assertEquals("tok", Files.readString(single));
        for (String name : List.of(COMMIT, "model.safetensors", "tokenizer.json")) {
            assertEquals(1, gets(model.resolve(name)), name + " is downloaded once");
        }

        publish(model, Map.of(COMMIT, "v2", "model.safetensors", "weights-2", "tokenizer.json", "tok"));
        assertEquals(Map.of(COMMIT, "v2", "model.safetensors", "weights-2", "tokenizer.json", "tok"),
                read(store.fetchSet(model, COMMIT)));
        assertEquals(2, gets(model.resolve("model.safetensors")), "a changed object is downloaded again");
        assertEquals(1, gets(model.resolve("tokenizer.json")), "an unchanged object (same ETag) is not");
        assertEquals(Map.of(COMMIT, "v1", "model.safetensors", "weights-1", "tokenizer.json", "tok"), read(first),
                "a set handed out earlier stays as it was");
    }

    @Test
    void releasingAnOldVersionDeletesItsCachedFilesButNotThoseTheNewVersionShares() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "v1", "model.safetensors", "weights-1", "tokenizer.json", "tok"));
        Path v1 = store.fetchSet(model, COMMIT);
        publish(model, Map.of(COMMIT, "v2", "model.safetensors", "weights-2", "tokenizer.json", "tok"));
        Path v2 = store.fetchSet(model, COMMIT);
        Path elsewhere = Files.writeString(Files.createDirectories(cacheDir.resolve("elsewhere")).resolve("kept"), "kept");

        store.release(v1);
        store.release(elsewhere.getParent());

        assertFalse(Files.exists(v1));
        assertEquals(List.of("tok", "v2", "weights-2"), cachedContents(), "only the new version's objects are left");
        assertEquals(Map.of(COMMIT, "v2", "model.safetensors", "weights-2", "tokenizer.json", "tok"), read(store.fetchSet(model, COMMIT)));
        assertEquals(1, gets(model.resolve("tokenizer.json")), "the shared object is still cached");
        assertTrue(Files.exists(elsewhere), "a directory the cache did not hand out is left alone");
    }

    /** The contents of every object file in the cache, sorted. */
    private List<String> cachedContents() throws IOException {
        try (Stream<Path> files = Files.walk(cacheDir.resolve("objects"))) {
            List<String> contents = new ArrayList<>();
            for (Path file : files.filter(Files::isRegularFile).toList()) {
                contents.add(Files.readString(file));
            }
            return contents.stream().sorted().toList();
        }
    }

    @Test
    void theCacheOnDiskServesTheNextProcess() throws IOException {
        Location dataset = newLocation("dataset");
        publish(dataset, Map.of(COMMIT, "m", "train-00000.safetensors", "rows"));
        store.fetchSet(dataset, COMMIT);
        try (S3Store nextProcess = newStore(settings())) {
            assertEquals(Map.of(COMMIT, "m", "train-00000.safetensors", "rows"), read(nextProcess.fetchSet(dataset, COMMIT)));
        }
        assertEquals(1, gets(dataset.resolve("train-00000.safetensors")));
    }

    @Test
    void aSetReplacedBetweenListingAndDownloadIsReadAgain() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "v1", "model.safetensors", "weights-1"));
        AtomicInteger replaced = new AtomicInteger();
        try (S3Store racing = S3Store.create(settings().withCacheDir(cacheDir.resolve("racing")), clientFor(S3.server(),
                replaceWeightsBeforeDownload(model, replaced, 1)))) {
            assertEquals(Map.of(COMMIT, "v1", "model.safetensors", "weights-changed-1"), read(racing.fetchSet(model, COMMIT)));
        }
        assertEquals(1, replaced.get());
    }

    @Test
    void aSetThatKeepsChangingWhileItIsReadIsAClearError() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "v1", "model.safetensors", "weights-1"));
        LeaseSettings waitOneSecond = new LeaseSettings(java.time.Duration.ofMinutes(2), java.time.Duration.ofSeconds(1));
        try (S3Store racing = S3Store.create(settings().withCacheDir(cacheDir.resolve("racing")), waitOneSecond, clientFor(S3.server(),
                replaceWeightsBeforeDownload(model, new AtomicInteger(), Integer.MAX_VALUE)))) {
            StorageException e = assertThrows(PublishConflictException.class, () -> racing.fetchSet(model, COMMIT));
            assertTrue(e.getMessage().contains("kept changing while it was being downloaded for 1 s"), e.getMessage());
            assertTrue(e.getMessage().contains(model.toString()), e.getMessage());
        }
    }

    /** Another writer replacing the weights just before the store's GET of them (the ETag it listed is then stale). */
    private ExecutionInterceptor replaceWeightsBeforeDownload(Location model, AtomicInteger replaced, int times) {
        return new ExecutionInterceptor() {
            @Override
            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof GetObjectRequest get && get.key().endsWith("model.safetensors")
                        && replaced.get() < times) {
                    writeRaw(model, "model.safetensors", "weights-changed-" + replaced.incrementAndGet());
                }
            }
        };
    }

    @Test
    void aThrottledRequestIsRetriedAndGivenUpOnAfterTheConfiguredAttempts() throws IOException {
        Location model = newLocation("model");
        publish(model, Map.of(COMMIT, "v1"));
        AtomicInteger attempts = new AtomicInteger();
        AtomicInteger throttled = new AtomicInteger();
        ExecutionInterceptor slowDownTwice = new ExecutionInterceptor() {
            @Override
            public SdkHttpResponse modifyHttpResponse(Context.ModifyHttpResponse context, ExecutionAttributes attributes) {
                attempts.incrementAndGet();
                return throttled.incrementAndGet() <= 2 ? context.httpResponse().toBuilder().statusCode(503).build()
                        : context.httpResponse();
            }
        };
        try (S3Store patient = S3Store.create(settings().withMaxAttempts(3), clientFor(S3.server(), slowDownTwice))) {
            assertTrue(patient.exists(model, COMMIT));
            assertEquals(3, attempts.get(), "two 503s, then the answer");
        }
        throttled.set(0);
        try (S3Store impatient = S3Store.create(settings().withMaxAttempts(2), clientFor(S3.server(), slowDownTwice))) {
            // worth another try later: a Batch job exits 75 (retried), a Function URL answers 503
            StorageException e = assertThrows(StorageUnavailableException.class, () -> impatient.exists(model, COMMIT));
            assertTrue(e.getMessage().startsWith("S3 kept failing (HTTP 503) after 2 attempts to list " + model), e.getMessage());
        }
    }

    @Test
    void routingRefusesAnS3LocationOutsideTheAllowedOnesBeforeTouchingS3() throws IOException {
        Location allowed = newLocation("allowed");
        AtomicInteger storesCreated = new AtomicInteger();
        RoutingStore routing = new RoutingStore(new LocalStore(), () -> {
            storesCreated.incrementAndGet();
            return store;
        }, List.of(allowed));

        StorageException outside = assertThrows(StorageException.class,
                () -> routing.exists(newLocation("elsewhere"), COMMIT));
        assertTrue(outside.getMessage().contains("outside the allowed locations"), outside.getMessage());
        assertThrows(StorageException.class, () -> routing.stage(Location.parse("s3://another-bucket/allowed"), COMMIT));
        assertThrows(StorageException.class, () -> routing.fetchSet(Location.parse(allowed + "-sibling"), COMMIT));
        assertEquals(0, storesCreated.get(), "a refused location never creates the S3 client");

        try (ArtifactStore.Staging staging = routing.stage(allowed.resolve("model"), COMMIT)) {
            Files.writeString(staging.dir().resolve(COMMIT), "ok");
            staging.commit();
        }
        assertTrue(routing.exists(allowed.resolve("model"), COMMIT));
        assertEquals(1, storesCreated.get());
    }

    @Test
    void stagingWritesNothingToS3UntilTheCommit() throws IOException {
        Location model = newLocation("model");
        Path dir;
        try (ArtifactStore.Staging staging = store.stage(model, COMMIT)) {
            dir = staging.dir();
            assertTrue(dir.startsWith(cacheDir), "staged under the configured cache directory");
            Files.writeString(dir.resolve(COMMIT), "{}");
            assertEquals(List.of(), store.listFiles(model));
        }
        assertFalse(Files.exists(dir), "closing without a commit removes the staged files");
        assertEquals(List.of(), store.listFiles(model));
    }
}
