package io.gpt2cls.dataset;

/**
 * An accepted, tokenized row: its token ids (already cut to the maximum length), how many tokens its
 * whole text has, its label, the key of its exact text (duplicates, leakage) and the start of the text
 * for reports.
 */
record Example(RowLocation location, String label, int[] tokens, int textTokens, TextKey text, String preview) {

    boolean truncated() {
        return textTokens > tokens.length;
    }
}
