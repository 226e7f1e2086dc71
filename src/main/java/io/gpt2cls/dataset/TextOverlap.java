package io.gpt2cls.dataset;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Exact-text repeats, by {@link TextKey}: duplicates inside a split, and leakage, test rows whose text
 * is also in the train split. Texts are compared as they are (no whitespace or case folding).
 */
final class TextOverlap {

    /** How many leaked rows the manifest and response show. */
    static final int LEAK_EXAMPLES = 5;

    /** A test row and the first train row with the same text. */
    record Leak(Example test, Example train) {}

    private TextOverlap() {}

    /** Rows whose text occurs earlier in {@code rows}. */
    static int duplicates(List<Example> rows) {
        Set<TextKey> seen = new HashSet<>();
        int duplicates = 0;
        for (Example row : rows) {
            if (!seen.add(row.text())) {
                duplicates++;
            }
        }
        return duplicates;
    }

    /** Every test row whose text is in {@code train}, in test order. */
    static List<Leak> leaks(List<Example> train, List<Example> test) {
        Map<TextKey, Example> firstInTrain = new HashMap<>();
        for (Example row : train) {
            firstInTrain.putIfAbsent(row.text(), row);
        }
        List<Leak> leaks = new ArrayList<>();
        for (Example row : test) {
            Example same = firstInTrain.get(row.text());
            if (same != null) {
                leaks.add(new Leak(row, same));
            }
        }
        return leaks;
    }

    static Manifest.Leakage report(List<Leak> leaks, boolean dropped) {
        List<Manifest.LeakedRow> examples = leaks.stream().limit(LEAK_EXAMPLES)
                .map(leak -> new Manifest.LeakedRow(leak.test().preview(), leak.train().location().toString(),
                        leak.test().location().toString()))
                .toList();
        return new Manifest.Leakage(leaks.size(), dropped, examples);
    }
}
