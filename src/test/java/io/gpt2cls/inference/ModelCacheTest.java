package io.gpt2cls.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.function.TestModels;

class ModelCacheTest {

    @TempDir
    static Path work;
    static Path v1;
    static Path v2;
    static Path v3;

    @BeforeAll
    static void models() throws IOException {
        v1 = TestModels.randomTinyModel(work.resolve("v1"), 1, List.of("a", "b"));
        v2 = TestModels.randomTinyModel(work.resolve("v2"), 2, List.of("a", "b"));
        v3 = TestModels.randomTinyModel(work.resolve("v3"), 3, List.of("a", "b"));
    }

    /** A version of the model at {@code location}, read from {@code dir}. */
    static TextClassifier load(Path dir, String location, String version) throws IOException {
        return TextClassifier.load(dir, location, version, TextClassifier.DEFAULT_TOKENS_PER_FORWARD, true);
    }

    @Test
    void aReplacedModelStaysOpenForTheRequestsHoldingItAndClosesAfterTheLastOne() throws IOException {
        TextClassifier first = load(v1, "served", "1");
        TextClassifier second = load(v2, "served", "2");
        AtomicInteger retired = new AtomicInteger();
        try (ModelCache cache = new ModelCache(Long.MAX_VALUE)) {
            cache.put(first, retired::incrementAndGet);
            ModelCache.Lease running = cache.acquire("served");
            ModelCache.Lease alsoRunning = cache.acquire("served");

            cache.put(second, () -> { });
            assertSame(second, cache.peek("served"));
            try (ModelCache.Lease later = cache.acquire("served")) {
                assertSame(second, later.model(), "requests after the swap get the new model");
            }
            assertFalse(first.isClosed(), "requests under way keep the old model");
            assertEquals("a", running.model().classify(List.of("still answering")).get(0).probabilities().keySet().iterator().next());

            running.close();
            running.close(); // a lease lets go once
            assertFalse(first.isClosed(), "one request still holds it");
            alsoRunning.close();
            assertTrue(first.isClosed(), "freed after its last request");
            assertEquals(1, retired.get());
            assertFalse(second.isClosed());
        }
        assertTrue(second.isClosed(), "closing the cache lets its models go");
    }

    @Test
    void overTheBudgetTheLeastRecentlyUsedModelGoesOnceItsRequestsFinish() throws IOException {
        TextClassifier a = load(v1, "a", "1");
        TextClassifier b = load(v2, "b", "1");
        TextClassifier c = load(v3, "c", "1");
        assertTrue(a.weightBytes() > 0);
        assertEquals(a.weightBytes(), c.weightBytes(), "the tiny models have one shape");
        try (ModelCache cache = new ModelCache(2 * a.weightBytes())) {
            cache.put(a, () -> { });
            cache.put(b, () -> { });
            cache.acquire("a").close(); // a is now used more recently than b
            ModelCache.Lease onB = cache.acquire("b"); // ... and b, still answering
            cache.acquire("a").close();

            cache.put(c, () -> { });
            assertNull(cache.peek("b"), "the least recently used is let go");
            assertSame(a, cache.peek("a"));
            assertSame(c, cache.peek("c"));
            assertFalse(b.isClosed(), "a request under way finishes on the evicted model");
            onB.model().classify(List.of("still answering"));
            onB.close();
            assertTrue(b.isClosed());
            assertNull(cache.acquire("b"), "an evicted model is not leased again (its location loads anew)");
        }
    }

    @Test
    void aModelLargerThanTheBudgetIsServedAlone() throws IOException {
        TextClassifier a = load(v1, "a", "1");
        TextClassifier b = load(v2, "b", "1");
        try (ModelCache cache = new ModelCache(1)) {
            cache.put(a, () -> { });
            cache.put(b, () -> { });
            assertTrue(a.isClosed());
            assertSame(b, cache.peek("b"));
            assertEquals(List.of(b), cache.models());
        }
    }

    @Test
    void anEmptyCacheLeasesNothing() {
        try (ModelCache cache = new ModelCache(1)) {
            assertNull(cache.acquire("a"));
            assertNull(cache.peek("a"));
        }
    }
}
