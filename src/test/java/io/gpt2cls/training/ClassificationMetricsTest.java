package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.Test;

class ClassificationMetricsTest {

    @Test
    void perClassAndMacroScoresMatchHandCount() {
        int[] actual = {0, 0, 0, 1, 1, 2};
        int[] predicted = {0, 0, 1, 1, 2, 2};
        ClassificationMetrics m = ClassificationMetrics.compute(actual, predicted, 0.5, List.of("a", "b", "c"));
        assertEquals(4.0 / 6, m.accuracy(), 1e-12);
        // a: P=1, R=2/3, F1=0.8; b: P=1/2, R=1/2, F1=1/2; c: P=1/2, R=1, F1=2/3
        assertEquals(0.8, m.perClass().get(0).f1(), 1e-12);
        assertEquals(0.5, m.perClass().get(1).f1(), 1e-12);
        assertEquals(2.0 / 3, m.perClass().get(2).f1(), 1e-12);
        assertEquals((0.8 + 0.5 + 2.0 / 3) / 3, m.macroF1(), 1e-12);
        assertArrayEquals(new long[] {2, 1, 0}, m.confusion()[0]);
        assertArrayEquals(new long[] {0, 1, 1}, m.confusion()[1]);
        assertEquals(3, m.perClass().get(0).support());
        assertTrue(m.table().contains("macro avg"));
        assertEquals(m.accuracy(), m.metric("eval_accuracy"));
    }

    @Test
    void classNeverPredictedScoresZeroNotNaN() {
        ClassificationMetrics m = ClassificationMetrics.compute(new int[] {0, 1}, new int[] {0, 0}, 0, List.of("x", "y"));
        assertEquals(0.0, m.perClass().get(1).precision());
        assertEquals(0.0, m.perClass().get(1).f1());
    }
}
