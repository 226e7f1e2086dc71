package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;

/**
 * The server dies in the middle of a multipart publish that replaces a committed set: neither the old
 * set nor a part of the new one is visible after, and the retried publish completes the new set.
 */
class S3InterruptedPublishTest {

    static final String BUCKET = "gpt2cls-interrupted";
    static final String COMMIT = ArtifactStoreContract.COMMIT;
    static final int WEIGHTS_BYTES = 40 * 1024 * 1024;

    @RegisterExtension
    static final S3ProxyExtension S3 = S3ProxyExtension.ownServer();

    @TempDir
    Path work;

    @Test
    void aPublishCutOffMidUploadLeavesNoSetAndTheRetryCompletesIt() throws Exception {
        S3ProxyServer server = S3.server();
        server.createBucket(BUCKET);
        Location model = Location.parse("s3://" + BUCKET + "/runs/7/model");
        Path weights = Files.write(work.resolve("model.safetensors"), S3StoreTest.randomBytes(WEIGHTS_BYTES, 7));
        S3Settings settings = S3Settings.defaults().withCacheDir(work.resolve("cache"))
                .withEndpoint(Optional.of(server.endpoint())).withMultipart(S3Settings.MIN_PART_SIZE, S3Settings.MIN_PART_SIZE)
                .withConcurrency(2).withMaxAttempts(2);

        // An older model is there; the new one (8 parts of 5 MiB) is cut off after its second part.
        AtomicInteger parts = new AtomicInteger();
        AtomicBoolean cutOff = new AtomicBoolean(true);
        try (S3Store store = S3Store.create(settings, S3StoreTest.clientFor(server, new ExecutionInterceptor() {
            @Override
            public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
                if (context.request() instanceof UploadPartRequest && parts.incrementAndGet() == 2 && cutOff.get()) {
                    try {
                        server.kill();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                }
            }
        }))) {
            publish(store, model, "{\"labels\": 2}", Files.write(work.resolve("old.bin"), new byte[] {1, 2, 3}), "vocab-v2.txt");

            StorageException failed = assertThrows(StorageException.class, () -> publish(store, model, "{\"labels\": 3}", weights));
            assertTrue(failed.getMessage().startsWith("cannot reach the S3 endpoint " + server.endpoint() + " for " + model + "/"),
                    failed.getMessage());
            assertTrue(failed.getMessage().contains("connection refused") || failed.getMessage().contains("closed the connection"),
                    failed.getMessage());

            server.restart();
            assertFalse(store.exists(model, COMMIT), "no commit object: the set is absent, neither old nor half new");
            ArtifactNotFoundException absent = assertThrows(ArtifactNotFoundException.class, () -> store.fetchSet(model, COMMIT));
            assertTrue(absent.getMessage().contains("a publish there died before its end"), absent.getMessage());
            assertEquals(3, Files.size(serverFile(server, model.resolve("model.safetensors"))),
                    "the unfinished upload did not replace the old weights' object");

            cutOff.set(false);
            publish(store, model, "{\"labels\": 3}", weights);
            assertEquals(List.of(model.resolve(COMMIT), model.resolve("model.safetensors")), store.listFiles(model),
                    "the retry removed the old set's file the new one does not have");
            assertFalse(Files.exists(serverFile(server, model.resolve("." + COMMIT + ".replacing"))), "and its marker");
        }
        try (S3Store fresh = S3Store.create(settings.withCacheDir(work.resolve("cache-2")), S3StoreTest.clientFor(server,
                new ExecutionInterceptor() { }))) {
            Path set = fresh.fetchSet(model, COMMIT);
            assertEquals("{\"labels\": 3}", Files.readString(set.resolve(COMMIT)));
            assertEquals(-1, Files.mismatch(set.resolve("model.safetensors"), weights), "read back byte for byte");
        }
    }

    private static void publish(S3Store store, Location model, String config, Path weights, String... more) throws IOException {
        try (ArtifactStore.Staging staging = store.stage(model, COMMIT)) {
            Files.writeString(staging.dir().resolve(COMMIT), config);
            Files.copy(weights, staging.dir().resolve("model.safetensors"));
            for (String name : more) {
                Files.writeString(staging.dir().resolve(name), name);
            }
            staging.commit();
        }
    }

    /** Where S3Proxy's filesystem backend keeps an object. */
    private static Path serverFile(S3ProxyServer server, Location object) {
        return server.dataDir().resolve(object.bucket()).resolve(object.key());
    }
}
