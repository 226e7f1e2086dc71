package io.gpt2cls.dataset;

import java.util.BitSet;
import java.util.List;

/**
 * Exact-text repeats, by text number ({@link TextIds}): duplicates inside a split, and leakage, test
 * rows whose text is also in the train split. Texts are compared as they are (no whitespace or case
 * folding). A split is a set of row numbers of {@link AcceptedRows}.
 */
final class TextOverlap {

    /** How many leaked rows the manifest and response show. */
    static final int LEAK_EXAMPLES = 5;

    /** A test row and the first train row with the same text. */
    record Leak(RowLocation test, String testPreview, RowLocation train) {}

    private TextOverlap() {}

    /** The texts of the rows of {@code split}, by number. */
    static BitSet texts(AcceptedRows rows, BitSet split) {
        BitSet texts = new BitSet(rows.texts.size());
        split.stream().forEach(row -> texts.set(rows.textId(row)));
        return texts;
    }

    /** Rows of {@code split} whose text occurs earlier in it: all but one row of each text. */
    static int duplicates(AcceptedRows rows, BitSet split) {
        return split.cardinality() - texts(rows, split).cardinality();
    }

    static Manifest.Leakage report(List<Leak> leaks, boolean dropped) {
        List<Manifest.LeakedRow> examples = leaks.stream().limit(LEAK_EXAMPLES)
                .map(leak -> new Manifest.LeakedRow(leak.testPreview(), leak.train().toString(), leak.test().toString()))
                .toList();
        return new Manifest.Leakage(leaks.size(), dropped, examples);
    }
}
