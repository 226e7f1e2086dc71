package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class StratifiedSplitTest {

    @Test
    void testRowsRoundTheShareButKeepAtLeastOneRowOnEachSide() {
        assertEquals(10, StratifiedSplit.testRows(100, 0.1));
        assertEquals(2, StratifiedSplit.testRows(15, 0.1), "1.5 rounds half up");
        assertEquals(1, StratifiedSplit.testRows(2, 0.1), "a class of two gives one to test");
        assertEquals(1, StratifiedSplit.testRows(3, 0.01));
        assertEquals(2, StratifiedSplit.testRows(3, 0.9), "and keeps one for training");
        assertEquals(0, StratifiedSplit.testRows(1, 0.9), "a single row stays in training");
        assertEquals(0, StratifiedSplit.testRows(50, 0), "no test share, no test rows");
    }
}
