package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class StratifiedSplitTest {

    @Test
    void theTestSplitIsTheRoundedShareOfAllRowsSharedByLargestRemainder() {
        assertArrayEquals(new int[] {10}, StratifiedSplit.testRows(new int[] {100}, 0.1));
        assertArrayEquals(new int[] {5, 5}, StratifiedSplit.testRows(new int[] {50, 50}, 0.1));
        // 71 rows x 0.2 = 14.2 -> 14: quotas 7.89, 3.94, 1.97, 0.20 -> floors 7, 3, 1, 0 and the
        // three largest remainders (c, b, a) get one more each
        assertArrayEquals(new int[] {8, 4, 2, 0}, StratifiedSplit.testRows(new int[] {40, 20, 10, 1}, 0.2));
        assertArrayEquals(new int[] {2, 0}, StratifiedSplit.testRows(new int[] {15, 5}, 0.1),
                "2 of 20 rows: a class may get no test row rather than push the share to 15%");
        assertArrayEquals(new int[] {1, 0}, StratifiedSplit.testRows(new int[] {5, 5}, 0.05),
                "0.5 rows rounds half up; the tie goes to the class first in label order");
        assertArrayEquals(new int[] {0, 0}, StratifiedSplit.testRows(new int[] {50, 50}, 0), "no test share, no test rows");
    }

    @Test
    void aShareThatRoundsToNoTestRowIsRefusedWithTheSmallestThatWorks() {
        DatasetException error = assertThrows(DatasetException.class, () -> StratifiedSplit.testRows(new int[] {5, 5}, 0.01));
        assertEquals("test_fraction 0.01 of 10 accepted rows is 0.10 rows, which rounds to none; use test_fraction >= 0.1"
                + " (one row), give a test file, or set test_fraction 0 to train without a test split", error.getMessage());
    }

    @Test
    void aShareThatWouldLeaveAClassWithoutTrainingRowsIsRefusedWithTheLargestThatWorks() {
        // 4 x 0.9 = 3.6 -> 4 test rows, but each class keeps one: at most 2
        DatasetException error = assertThrows(DatasetException.class, () -> StratifiedSplit.testRows(new int[] {2, 2}, 0.9));
        assertEquals("test_fraction 0.9 of 4 accepted rows asks for 4 test rows, but only 2 can go to test while every"
                + " class keeps a training row; use test_fraction <= 0.5", error.getMessage());
        assertArrayEquals(new int[] {2, 0}, StratifiedSplit.testRows(new int[] {3, 1}, 0.5),
                "a class of one row keeps it; another class gives the rows instead");
    }
}
