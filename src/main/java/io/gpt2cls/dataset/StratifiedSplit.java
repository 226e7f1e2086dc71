package io.gpt2cls.dataset;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Cuts a test split from the training rows class by class, so each class keeps its share in both
 * splits. Seeded: the same rows and seed always give the same split.
 */
final class StratifiedSplit {

    record Result(List<Example> train, List<Example> test) {}

    private StratifiedSplit() {}

    /** Both splits keep the rows' original order; only the choice of test rows is random. */
    static Result split(List<Example> rows, List<String> labelOrder, double testFraction, long seed) {
        Map<String, List<Integer>> rowsByLabel = new LinkedHashMap<>();
        for (String label : labelOrder) {
            rowsByLabel.put(label, new ArrayList<>());
        }
        for (int i = 0; i < rows.size(); i++) {
            rowsByLabel.get(rows.get(i).label()).add(i);
        }
        Random random = new Random(seed);
        boolean[] inTest = new boolean[rows.size()];
        for (List<Integer> classRows : rowsByLabel.values()) {
            Collections.shuffle(classRows, random);
            int testRows = testRows(classRows.size(), testFraction);
            for (int i = 0; i < testRows; i++) {
                inTest[classRows.get(i)] = true;
            }
        }
        List<Example> train = new ArrayList<>();
        List<Example> test = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
            (inTest[i] ? test : train).add(rows.get(i));
        }
        return new Result(train, test);
    }

    /** round(n * fraction), but a class of two or more rows gives at least one and keeps at least one. */
    static int testRows(int classRows, double testFraction) {
        if (testFraction == 0 || classRows < 2) {
            return 0;
        }
        int rounded = (int) Math.round(classRows * testFraction);
        return Math.min(Math.max(rounded, 1), classRows - 1);
    }
}
