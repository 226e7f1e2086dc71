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
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * A local publisher stopped at each step of its protocol ({@link LocalStore.Step}): paused in this
 * process while another writer and a reader go on, or killed in a child process. Whatever the step,
 * the reader gets the old set whole, the new one whole or "being published", the other writer is
 * refused while the first lives and publishes once it is done or dead, and the result is one writer's.
 */
class LocalPublishInterleavingTest {

    @TempDir
    Path work;
    final LeaseSettings leases = new LeaseSettings(Duration.ofSeconds(30), Duration.ofMillis(500));

    @AfterEach
    void noHook() {
        LocalStore.steps = step -> { };
    }

    Location model() {
        return Location.of(work.resolve("model"));
    }

    String read() throws IOException {
        try {
            return writerOf(new LocalStore(leases).fetchSet(model(), COMMIT));
        } catch (PublishConflictException beingPublished) {
            assertTrue(beingPublished.getMessage().contains("is being published by"), beingPublished.getMessage());
            return "being published";
        } catch (ArtifactNotFoundException absent) {
            return "absent";
        }
    }

    List<String> leftovers() throws IOException {
        try (Stream<Path> walk = Files.walk(work)) {
            return walk.map(p -> work.relativize(p).toString()).filter(p -> p.startsWith(".") || p.contains("/.")).sorted().toList();
        }
    }

    @ParameterizedTest(name = "A paused at {0}")
    @EnumSource(LocalStore.Step.class)
    void aPausedPublisherKeepsTheOtherOutAndReadersSeeOneWholeSet(LocalStore.Step pauseAt) throws Exception {
        publish(new LocalStore(leases), model(), "earlier", files("earlier", 3, 2000, 1));
        CountDownLatch reached = new CountDownLatch(1);
        CountDownLatch resume = new CountDownLatch(1);
        Thread[] publisher = new Thread[1];
        LocalStore.steps = step -> {
            if (step == pauseAt && Thread.currentThread() == publisher[0]) {
                reached.countDown();
                try {
                    resume.await(60, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        CompletableFuture<Void> a = CompletableFuture.runAsync(() -> {
            publisher[0] = Thread.currentThread();
            try {
                publish(new LocalStore(leases), model(), "A", files("A", 2, 2000, 2));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        });
        assertTrue(reached.await(60, TimeUnit.SECONDS));

        LocalStore b = new LocalStore(leases);
        PublishConflictException refused = assertThrows(PublishConflictException.class, () -> b.stage(model(), COMMIT));
        assertTrue(refused.getMessage().contains("is held by run " + ProcessHandle.current().pid() + "@"), refused.getMessage());
        String expected = switch (pauseAt) {
            case STAGED, JOURNALED -> "earlier";
            default -> "being published";
        };
        assertEquals(expected, read());

        resume.countDown();
        a.get(60, TimeUnit.SECONDS);
        assertEquals("A", read());
        publish(b, model(), "B", files("B", 1, 2000, 3));
        assertEquals("B", read());
        assertEquals(List.of(), leftovers());
    }

    @ParameterizedTest(name = "A killed at {0}")
    @EnumSource(LocalStore.Step.class)
    void aPublisherKilledAtAnyStepNeverBlocksTheLocationAndLeavesOneWholeSet(LocalStore.Step dieAt) throws Exception {
        publish(new LocalStore(leases), model(), "earlier", files("earlier", 3, 2000, 1));
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), LocalPublishChild.class.getName(),
                model().path().toString(), dieAt.name()).redirectErrorStream(true).redirectOutput(work.resolve("child.log").toFile())
                .start();
        assertTrue(child.waitFor(60, TimeUnit.SECONDS));
        assertEquals(137, child.exitValue(), () -> "the child died at " + dieAt + ": " + readLog());
        Files.delete(work.resolve("child.log"));

        // Before its journal the dead run's work is discarded; from its journal on, it is finished.
        assertEquals(dieAt == LocalStore.Step.STAGED ? "earlier" : "A", read());
        publish(new LocalStore(leases), model(), "B", files("B", 1, 2000, 3)); // no wait: the OS released the dead run's lock
        assertEquals("B", read());
        assertEquals(List.of(), leftovers());
    }

    private String readLog() {
        try {
            return Files.readString(work.resolve("child.log"));
        } catch (IOException e) {
            return e.toString();
        }
    }
}
