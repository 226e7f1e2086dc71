package io.gpt2cls.storage;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.S3Object;

/** Concurrent publishers on S3Proxy 4.0: each writer a store of its own, as separate processes have. */
class S3ConcurrentPublishTest extends ConcurrentPublishContract {

    static final String BUCKET = "gpt2cls-concurrent";

    @RegisterExtension
    static final S3ProxyExtension S3 = S3ProxyExtension.shared();

    @TempDir
    Path work;
    final List<S3Store> stores = new ArrayList<>();
    String testPrefix;

    @BeforeAll
    static void bucket() {
        S3.server().ensureBucket(BUCKET);
    }

    @BeforeEach
    void name(TestInfo test) {
        testPrefix = test.getTestMethod().orElseThrow().getName() + "-" + System.nanoTime();
    }

    @AfterEach
    void close() {
        stores.forEach(S3Store::close);
    }

    @Override
    protected ArtifactStore newWriter() throws java.io.IOException {
        S3Settings settings = S3Settings.defaults().withCacheDir(Files.createTempDirectory(work, "cache-"))
                .withEndpoint(Optional.of(S3.server().endpoint())).withMaxAttempts(2);
        S3Store store = S3Store.create(settings, new LeaseSettings(java.time.Duration.ofSeconds(30), java.time.Duration.ofSeconds(5)),
                S3StoreTest.clientFor(S3.server(), new ExecutionInterceptor() { }));
        stores.add(store);
        return store;
    }

    @Override
    protected Location newLocation(String name) {
        return Location.parse("s3://" + BUCKET + "/" + testPrefix + "/" + name);
    }

    @Override
    protected List<String> leftovers(Location location) {
        try (S3Client raw = S3.server().client()) {
            return raw.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(location.parent().keyPrefix())).contents().stream()
                    .map(S3Object::key).filter(key -> key.substring(key.lastIndexOf('/') + 1).startsWith(".")).sorted().toList();
        }
    }
}
