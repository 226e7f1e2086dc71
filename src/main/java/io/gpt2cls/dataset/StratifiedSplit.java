package io.gpt2cls.dataset;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.List;

/**
 * Cuts a test split from the training rows class by class, so each class keeps its share in both
 * splits. Seeded: the same rows and seed always give the same split, whichever process reads which rows.
 *
 * <p>The test split gets exactly {@code round(rows x testFraction)} rows (halves up), so the share
 * asked for is met to within half a row. They are shared among the classes in proportion to class size
 * by largest remainder (ties to the class first in label order), and every class keeps at least one
 * training row. A fraction that yields no test row, or more rows than the classes can give, is refused
 * with the fractions that work, rather than quietly taking another share.
 */
final class StratifiedSplit {

    private StratifiedSplit() {}

    /**
     * Which of the first {@code count} rows (the training input's) go to test, as a set of row numbers;
     * the rest are train. Which rows of a class go to test is decided by each row's {@link #rank}: the
     * class's {@code testRows} lowest ranks, ties (2^-64 per pair) to the row read first. A rank depends
     * on the seed and the row's identity alone (its text, and how many rows before it hold the same
     * text), not on the file layout, the format or which process read it: a map task run twice, the
     * rows read by many tasks, or the same rows as JSON Lines or CSV give the same split.
     */
    static BitSet split(AcceptedRows rows, int count, int labelCount, double testFraction, long seed) {
        int[] classRows = new int[labelCount];
        for (int row = 0; row < count; row++) {
            classRows[rows.label(row)]++;
        }
        int[] testRows = testRows(classRows, testFraction);
        long[] ranks = new long[count];
        int[] occurrences = new int[rows.texts.size()];
        MessageDigest digest = TextKey.sha256();
        for (int row = 0; row < count; row++) {
            int text = rows.textId(row);
            ranks[row] = rank(rows.texts.key(text), occurrences[text]++, seed, digest);
        }
        // per class: the rank of its last test row, and how many rows of exactly that rank go to test
        long[][] classRanks = new long[labelCount][];
        int[] filled = new int[labelCount];
        for (int c = 0; c < labelCount; c++) {
            classRanks[c] = new long[testRows[c] == 0 ? 0 : classRows[c]];
        }
        for (int row = 0; row < count; row++) {
            int c = rows.label(row);
            if (testRows[c] > 0) {
                classRanks[c][filled[c]++] = ranks[row];
            }
        }
        long[] lastRank = new long[labelCount];
        int[] tiesLeft = new int[labelCount];
        for (int c = 0; c < labelCount; c++) {
            if (testRows[c] > 0) {
                Arrays.sort(classRanks[c]);
                lastRank[c] = classRanks[c][testRows[c] - 1];
                int below = 0;
                while (classRanks[c][below] < lastRank[c]) {
                    below++;
                }
                tiesLeft[c] = testRows[c] - below;
                classRanks[c] = null;
            }
        }
        BitSet test = new BitSet(count);
        for (int row = 0; row < count; row++) {
            int c = rows.label(row);
            if (testRows[c] == 0 || ranks[row] > lastRank[c]) {
                continue;
            }
            if (ranks[row] < lastRank[c]) {
                test.set(row);
            } else if (tiesLeft[c] > 0) {
                tiesLeft[c]--;
                test.set(row);
            }
        }
        return test;
    }

    /** The first 8 bytes of SHA-256 over the seed, the text's key and its occurrence: uniform, and stable across runs and JVMs. */
    static long rank(TextKey text, int occurrence, long seed, MessageDigest digest) {
        digest.reset();
        digest.update(ByteBuffer.allocate(28).putLong(seed).putLong(text.high()).putLong(text.low()).putInt(occurrence).array());
        return ByteBuffer.wrap(digest.digest()).getLong();
    }

    /** Test rows per class (classes in label order) for {@code testFraction} of all rows; see the class comment. */
    static int[] testRows(int[] classRows, double testFraction) {
        int[] test = new int[classRows.length];
        if (testFraction == 0) {
            return test;
        }
        long total = 0;
        for (int n : classRows) {
            total += n;
        }
        long target = Math.round(total * testFraction);
        if (target == 0) {
            throw new DatasetException("test_fraction " + testFraction + " of " + total + " accepted rows is "
                    + String.format("%.2f", total * testFraction) + " rows, which rounds to none; use test_fraction >= "
                    + threeDigits(1.0 / total, RoundingMode.UP) + " (one row), give a test file, or set test_fraction 0"
                    + " to train without a test split");
        }
        long spare = 0; // rows the classes can give while each keeps one for training
        double[] remainders = new double[classRows.length];
        long assigned = 0;
        for (int c = 0; c < classRows.length; c++) {
            double quota = (double) classRows[c] * target / total;
            test[c] = (int) Math.min((long) Math.floor(quota), Math.max(classRows[c] - 1, 0));
            remainders[c] = quota - test[c];
            assigned += test[c];
            spare += Math.max(classRows[c] - 1, 0);
        }
        if (target > spare) {
            throw new DatasetException("test_fraction " + testFraction + " of " + total + " accepted rows asks for "
                    + target + " test rows, but only " + spare + " can go to test while every class keeps a training row;"
                    + " use test_fraction <= " + threeDigits((double) spare / total, RoundingMode.DOWN));
        }
        List<Integer> byRemainder = new ArrayList<>();
        for (int c = 0; c < classRows.length; c++) {
            byRemainder.add(c);
        }
        byRemainder.sort(Comparator.comparingDouble((Integer c) -> -remainders[c]));
        while (assigned < target) {
            for (int c : byRemainder) {
                if (assigned < target && test[c] < classRows[c] - 1) {
                    test[c]++;
                    assigned++;
                }
            }
        }
        return test;
    }

    private static String threeDigits(double fraction, RoundingMode direction) {
        return BigDecimal.valueOf(fraction).round(new MathContext(3, direction)).stripTrailingZeros().toPlainString();
    }
}
