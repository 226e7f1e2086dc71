package io.gpt2cls.dataset;

import java.math.BigDecimal;
import java.math.MathContext;
import java.math.RoundingMode;
import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

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

    record Result(List<Example> train, List<Example> test) {}

    private StratifiedSplit() {}

    /**
     * Both splits keep the rows' original order. Which rows of a class go to test is decided by each
     * row's {@link #rank}: the class's {@code testRows} lowest ranks. A rank depends on the seed and the
     * row's identity alone (its text, and how many rows before it hold the same text), not on the file
     * layout, the format or which process read it: a map task run twice, the rows read by many tasks,
     * or the same rows as JSON Lines or CSV give the same split.
     */
    static Result split(List<Example> rows, List<String> labelOrder, double testFraction, long seed) {
        Map<String, List<Integer>> rowsByLabel = new LinkedHashMap<>();
        for (String label : labelOrder) {
            rowsByLabel.put(label, new ArrayList<>());
        }
        for (int i = 0; i < rows.size(); i++) {
            rowsByLabel.get(rows.get(i).label()).add(i);
        }
        int[] classRows = rowsByLabel.values().stream().mapToInt(List::size).toArray();
        int[] testRows = testRows(classRows, testFraction);
        long[] ranks = new long[rows.size()];
        MessageDigest digest = TextKey.sha256();
        Map<TextKey, Integer> seen = new HashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            TextKey text = rows.get(i).text();
            ranks[i] = rank(text, seen.merge(text, 1, Integer::sum) - 1, seed, digest);
        }
        boolean[] inTest = new boolean[rows.size()];
        int c = 0;
        for (List<Integer> members : rowsByLabel.values()) {
            // ties (2^-64 per pair) go to the row read first
            members.sort(Comparator.<Integer>comparingLong(i -> ranks[i]).thenComparingInt(i -> i));
            for (int i = 0; i < testRows[c]; i++) {
                inTest[members.get(i)] = true;
            }
            c++;
        }
        List<Example> train = new ArrayList<>();
        List<Example> test = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            (inTest[i] ? test : train).add(rows.get(i));
        }
        return new Result(train, test);
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
