package io.gpt2cls.storage;

import static io.gpt2cls.storage.ConcurrentPublishContract.COMMIT;
import static io.gpt2cls.storage.ConcurrentPublishContract.files;
import static io.gpt2cls.storage.ConcurrentPublishContract.publish;
import static io.gpt2cls.storage.ConcurrentPublishContract.writerOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import software.amazon.awssdk.core.SdkRequest;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.DeleteObjectsRequest;
import software.amazon.awssdk.services.s3.model.PutObjectRequest;
import software.amazon.awssdk.services.s3.model.S3Object;

/**
 * A publisher stopped at each step of the S3 protocol (its requests held by an interceptor) while
 * another writer and a reader go on: paused and then finishing, frozen past its lease's expiry, or
 * dead. Whatever the step, the reader gets the old set whole, the new one whole or "being
 * published", the other writer is refused or takes over, and the committed set is one writer's.
 */
class S3PublishInterleavingTest {

    static final String BUCKET = "gpt2cls-interleaving";

    @RegisterExtension
    static final S3ProxyExtension S3 = S3ProxyExtension.shared();

    /** The requests of a publish over an earlier set, in order; "after" steps hold the writer once the request is done. */
    enum Step {
        LEASE_TAKEN(true, r -> r instanceof PutObjectRequest put && put.key().endsWith("/.publish.lease")),
        MARKER_WRITTEN(true, r -> r instanceof PutObjectRequest put && put.key().endsWith("/." + COMMIT + ".replacing")),
        OLD_COMMIT_REMOVED(true, r -> r instanceof DeleteObjectsRequest),
        FIRST_FILE_SENDING(false, r -> r instanceof PutObjectRequest put && put.key().endsWith("/part-0.bin")),
        FIRST_FILE_WRITTEN(true, r -> r instanceof PutObjectRequest put && put.key().endsWith("/part-0.bin")),
        COMMIT_SENDING(false, r -> r instanceof PutObjectRequest put && put.key().endsWith("/" + COMMIT)),
        COMMITTED(true, r -> r instanceof PutObjectRequest put && put.key().endsWith("/" + COMMIT));

        final boolean after;
        final Predicate<SdkRequest> request;

        Step(boolean after, Predicate<SdkRequest> request) {
            this.after = after;
            this.request = request;
        }
    }

    /**
     * Holds a writer's requests at a step: once it is reached, every request of that client waits
     * (the heartbeat's too, as in a frozen process) until {@link #resume()}, or fails from then on
     * after {@link #crash()} (a dead process).
     */
    static final class Gate implements ExecutionInterceptor {
        final Step step;
        final CountDownLatch reached = new CountDownLatch(1);
        final CountDownLatch resumed = new CountDownLatch(1);
        final AtomicBoolean closed = new AtomicBoolean();
        final AtomicBoolean dead = new AtomicBoolean();

        Gate(Step step) {
            this.step = step;
        }

        @Override
        public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes attributes) {
            hold();
            if (!step.after && step.request.test(context.request()) && closed.compareAndSet(false, true)) {
                reached.countDown();
                hold();
            }
        }

        @Override
        public void afterExecution(Context.AfterExecution context, ExecutionAttributes attributes) {
            if (step.after && step.request.test(context.request()) && closed.compareAndSet(false, true)) {
                reached.countDown();
                hold(); // the writer stops here, before whatever check comes next
            }
        }

        private void hold() {
            if (closed.get() && resumed.getCount() > 0) {
                await(resumed);
            }
            if (dead.get()) {
                throw SdkClientException.create("the writer's process died");
            }
        }

        void resume() {
            resumed.countDown();
        }

        void crash() {
            dead.set(true);
            resumed.countDown();
        }

        private static void await(CountDownLatch latch) {
            try {
                if (!latch.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("timed out at a gate");
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    @TempDir
    Path work;
    final List<S3Store> stores = new ArrayList<>();
    final List<Gate> gates = new ArrayList<>();
    Location model;

    @BeforeAll
    static void bucket() {
        S3.server().ensureBucket(BUCKET);
    }

    @BeforeEach
    void location(TestInfo test) {
        model = Location.parse("s3://" + BUCKET + "/" + test.getDisplayName().replaceAll("[^A-Za-z0-9]+", "-") + "-" + System.nanoTime()
                + "/model");
    }

    @AfterEach
    void close() {
        gates.forEach(Gate::resume); // a test that failed midway must not leave a writer held
        stores.forEach(S3Store::close);
    }

    S3Store store(ExecutionInterceptor interceptor, LeaseSettings leases) throws IOException {
        S3Settings settings = S3Settings.defaults().withCacheDir(Files.createTempDirectory(work, "cache-"))
                .withEndpoint(Optional.of(S3.server().endpoint())).withMaxAttempts(3);
        S3Store store = S3Store.create(settings, leases, S3StoreTest.clientFor(S3.server(), interceptor));
        stores.add(store);
        return store;
    }

    static LeaseSettings leases(Duration ttl) {
        return new LeaseSettings(ttl, Duration.ofMillis(500));
    }

    /** Starts writer A's publish (2 files, over an earlier set of 3) in the background, held at {@code gate}. */
    CompletableFuture<Void> publishHeld(Gate gate, Duration ttl) throws IOException, InterruptedException {
        publish(store(new ExecutionInterceptor() { }, leases(ttl)), model, "earlier", files("earlier", 3, 2000, 1));
        S3Store a = store(gate, leases(ttl));
        CompletableFuture<Void> publishing = CompletableFuture.runAsync(() -> {
            try {
                publish(a, model, "A", files("A", 2, 2000, 2));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        while (!gate.reached.await(100, TimeUnit.MILLISECONDS)) {
            if (publishing.isDone()) {
                publishing.join(); // throws what stopped it
                throw new AssertionError("the publish ended without reaching " + gate.step);
            }
        }
        gates.add(gate);
        return publishing;
    }

    /** A reader now gets the earlier set whole, A's whole, "being published" or "absent"; never a mix. */
    String read() throws IOException {
        try {
            return writerOf(store(new ExecutionInterceptor() { }, leases(Duration.ofSeconds(30))).fetchSet(model, COMMIT));
        } catch (PublishConflictException beingPublished) {
            assertTrue(beingPublished.getMessage().contains("is being published by"), beingPublished.getMessage());
            return "being published";
        } catch (ArtifactNotFoundException absent) {
            return "absent";
        }
    }

    List<String> hiddenObjects() {
        try (S3Client raw = S3.server().client()) {
            return raw.listObjectsV2Paginator(b -> b.bucket(BUCKET).prefix(model.keyPrefix())).contents().stream()
                    .map(S3Object::key).filter(key -> key.substring(key.lastIndexOf('/') + 1).startsWith(".")).toList();
        }
    }

    @ParameterizedTest(name = "A paused after {0}")
    @EnumSource(Step.class)
    void aPausedPublisherKeepsTheOtherOutAndReadersSeeOneWholeSet(Step step) throws Exception {
        Gate gate = new Gate(step);
        CompletableFuture<Void> a = publishHeld(gate, Duration.ofSeconds(30));
        S3Store b = store(new ExecutionInterceptor() { }, leases(Duration.ofSeconds(30)));

        PublishConflictException refused = assertThrows(PublishConflictException.class, () -> b.stage(model, COMMIT));
        assertTrue(refused.getMessage().contains("is held by run "), refused.getMessage());
        String seen = read();
        String expected = switch (step) {
            case LEASE_TAKEN, MARKER_WRITTEN -> "earlier";
            case COMMITTED -> "A";
            default -> "being published";
        };
        assertEquals(expected, seen);

        gate.resume();
        a.get(60, TimeUnit.SECONDS);
        assertEquals("A", read());
        publish(b, model, "B", files("B", 1, 2000, 3));
        assertEquals("B", read());
        assertEquals(List.of(), hiddenObjects(), "no lease, no marker left");
    }

    @ParameterizedTest(name = "A frozen at {0} past its lease")
    @EnumSource(Step.class)
    void aPublisherFrozenPastItsLeaseIsOvertakenAndCannotWriteIntoTheNewSet(Step step) throws Exception {
        Duration ttl = Duration.ofSeconds(2);
        Gate gate = new Gate(step);
        CompletableFuture<Void> a = publishHeld(gate, ttl);
        S3Store b = store(new ExecutionInterceptor() { }, leases(ttl));
        // A's heartbeat is frozen with it: its lease expires by the server's clock and B takes it over
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (true) {
            try {
                publish(b, model, "B", files("B", 2, 2000, 3));
                break;
            } catch (PublishConflictException stillHeld) {
                assertTrue(System.nanoTime() < deadline, "the expired lease was never taken over: " + stillHeld.getMessage());
                Thread.sleep(250);
            }
        }
        assertEquals("B", read());

        gate.resume(); // A wakes up: it must notice it lost the lease, and write nothing more
        if (step == Step.LEASE_TAKEN) {
            // A froze before it had read back that its lease stood: it finds B's gone and takes a new one, after B
            a.get(60, TimeUnit.SECONDS);
            assertEquals("A", read(), "A published after B, whole");
            return;
        }
        if (step == Step.COMMITTED) {
            a.get(60, TimeUnit.SECONDS); // A had committed before it froze; B replaced its set since
        } else {
            ExecutionException failed = assertThrows(ExecutionException.class, () -> a.get(60, TimeUnit.SECONDS));
            assertTrue(failed.getCause().getCause() instanceof PublishConflictException
                    || failed.getCause() instanceof PublishConflictException, String.valueOf(failed.getCause()));
        }
        assertEquals("B", read(), "B's set is whole: A wrote nothing into it");
    }

    @ParameterizedTest(name = "A dies after {0}")
    @EnumSource(Step.class)
    void aPublisherThatDiesAtAnyStepLeavesTheOldSetOrNoneAndTheNextPublishRepairsIt(Step step) throws Exception {
        Gate gate = new Gate(step);
        CompletableFuture<Void> a = publishHeld(gate, Duration.ofSeconds(30));
        gate.crash();
        if (step != Step.COMMITTED) {
            assertThrows(ExecutionException.class, () -> a.get(60, TimeUnit.SECONDS));
        } else {
            try {
                a.get(60, TimeUnit.SECONDS);
            } catch (ExecutionException diedCleaningUp) {
                // the set was committed; what failed is the marker's or the lease's removal
            }
        }
        String expected = switch (step) {
            case LEASE_TAKEN, MARKER_WRITTEN -> "earlier";
            case COMMITTED -> "A";
            default -> "absent"; // the old commit object is gone and the dead writer's is not there: no set, not a mix
        };
        assertEquals(expected, read());
        // the next publisher (a retry in this process: the dead attempt's lease is known to be gone) repairs it
        S3Store b = store(new ExecutionInterceptor() { }, leases(Duration.ofSeconds(30)));
        publish(b, model, "B", files("B", 1, 2000, 3));
        assertEquals("B", read());
        assertEquals(List.of(), hiddenObjects(), "the dead writer's lease and marker are gone");
    }

    @Test
    void aLeaseOfAnotherMachineBlocksUntilItExpiresThenIsTakenOver() throws Exception {
        LeaseRecord foreign = new LeaseRecord("job-elsewhere", "prepare of other data", "another-host", 1, 1, "t0k3n",
                "2026-01-01T00:00:00Z", 2);
        try (S3Client raw = S3.server().client()) {
            raw.putObject(b -> b.bucket(BUCKET).key(model.keyPrefix() + ".publish.lease"), RequestBody.fromBytes(foreign.toJson()));
        }
        S3Store b = store(new ExecutionInterceptor() { }, leases(Duration.ofSeconds(30)));
        PublishConflictException refused = assertThrows(PublishConflictException.class, () -> b.stage(model, COMMIT));
        assertTrue(refused.getMessage().contains("run job-elsewhere (prepare of other data) since 2026-01-01T00:00:00Z"),
                refused.getMessage());
        assertTrue(refused.getMessage().contains("2 s after it stops renewing it"), refused.getMessage());
        Thread.sleep(3_500); // past its 2 s by the server's clock (whole seconds)
        publish(b, model, "B", files("B", 1, 100, 4));
        assertEquals("B", read());
    }

    @Test
    void twoTakersOfAnExpiredLeaseNeverBothWin() throws Exception {
        LeaseRecord foreign = new LeaseRecord("job-elsewhere", null, "another-host", 1, 1, "t0k3n", "2026-01-01T00:00:00Z", 1);
        for (int round = 0; round < 3; round++) {
            try (S3Client raw = S3.server().client()) {
                raw.putObject(b -> b.bucket(BUCKET).key(model.keyPrefix() + ".publish.lease"), RequestBody.fromBytes(foreign.toJson()));
            }
            Thread.sleep(2_500);
            S3Store x = store(new ExecutionInterceptor() { }, leases(Duration.ofSeconds(30)));
            S3Store y = store(new ExecutionInterceptor() { }, leases(Duration.ofSeconds(30)));
            CountDownLatch start = new CountDownLatch(1);
            AtomicInteger won = new AtomicInteger();
            List<ArtifactStore.Staging> held = java.util.Collections.synchronizedList(new ArrayList<>());
            List<CompletableFuture<Void>> takers = new ArrayList<>();
            for (S3Store taker : List.of(x, y)) {
                takers.add(CompletableFuture.runAsync(() -> {
                    try {
                        start.await();
                        held.add(taker.stage(model, COMMIT));
                        won.incrementAndGet();
                    } catch (PublishConflictException lost) {
                        // the other one won
                    } catch (Exception e) {
                        throw new IllegalStateException(e);
                    }
                }));
            }
            start.countDown();
            for (CompletableFuture<Void> taker : takers) {
                taker.get(30, TimeUnit.SECONDS);
            }
            assertEquals(1, won.get(), "exactly one taker holds the lease");
            for (ArtifactStore.Staging staging : held) {
                staging.close();
            }
        }
    }
}
