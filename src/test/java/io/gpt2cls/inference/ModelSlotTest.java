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

class ModelSlotTest {

    @TempDir
    static Path work;
    static Path v1;
    static Path v2;

    @BeforeAll
    static void models() throws IOException {
        v1 = TestModels.randomTinyModel(work.resolve("v1"), 1, List.of("a", "b"));
        v2 = TestModels.randomTinyModel(work.resolve("v2"), 2, List.of("a", "b"));
    }

    @Test
    void aReplacedModelStaysOpenForTheRequestsHoldingItAndClosesAfterTheLastOne() throws IOException {
        TextClassifier first = TextClassifier.load(v1);
        TextClassifier second = TextClassifier.load(v2);
        AtomicInteger retired = new AtomicInteger();
        try (ModelSlot slot = new ModelSlot()) {
            slot.put(first, retired::incrementAndGet);
            ModelSlot.Lease running = slot.acquire();
            ModelSlot.Lease alsoRunning = slot.acquire();

            slot.put(second, () -> { });
            assertSame(second, slot.peek());
            try (ModelSlot.Lease later = slot.acquire()) {
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
        assertTrue(second.isClosed(), "closing the slot lets the current model go");
    }

    @Test
    void anEmptySlotLeasesNothing() {
        try (ModelSlot slot = new ModelSlot()) {
            assertNull(slot.acquire());
            assertNull(slot.peek());
        }
    }
}
