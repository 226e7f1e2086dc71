package io.gpt2cls.inference;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.pytorch.jni.JniUtils;

import io.gpt2cls.function.TestModels;

class TextClassifierTest {

    @Test
    void subBatchesAreLengthSortedAndPaddedWithinTheTokenBudget() {
        int[] lengths = {30, 3, 500, 7, 3, 60, 2000, 8, 9};
        List<int[]> batches = TextClassifier.subBatches(lengths, 64);
        int previousLongest = 0;
        int rows = 0;
        for (int[] batch : batches) {
            int longest = Arrays.stream(batch).map(i -> lengths[i]).max().orElseThrow();
            assertTrue(batch.length == 1 || batch.length * longest <= 64, Arrays.toString(batch) + " overflows the budget");
            assertTrue(lengths[batch[0]] >= previousLongest, "runs follow length order");
            previousLongest = longest;
            rows += batch.length;
        }
        assertEquals(lengths.length, rows);
        assertArrayEquals(new int[] {1, 4, 3, 7, 8}, batches.get(0), "the five shortest (9 x 5 = 45 <= 64; 6 x 30 > 64)");
        assertArrayEquals(new int[] {6}, batches.get(batches.size() - 1), "a text over the budget runs alone");
    }

    @Test
    void classifyingOnAnyThreadRecordsNoAutogradThere(@TempDir Path dir) throws Exception {
        try (TextClassifier classifier = TextClassifier.load(TestModels.randomTinyModel(dir, 3, List.of("a", "b")))) {
            AtomicBoolean gradAfter = new AtomicBoolean(true);
            Thread request = new Thread(() -> {
                classifier.classify(List.of("a request on a fresh thread"));
                gradAfter.set(JniUtils.isGradMode());
            });
            request.start();
            request.join();
            assertFalse(gradAfter.get(), "PyTorch's grad mode is per thread and on by default");
        }
    }
}
