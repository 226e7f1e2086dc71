package io.gpt2cls.dataset;

import java.util.Arrays;

/**
 * The accepted rows of a prepare in the reduce's order (the training input's files, then the test
 * input's), with what the split, duplicates, leakage and token statistics need and nothing more: per
 * row the number of its text ({@link TextIds}), its label and its token counts, 16 bytes, plus about 32
 * a distinct text. Ten million rows take about 0.5 GB here, where their tokens would take gigabytes;
 * the tokens are read again when the shards are written.
 */
final class AcceptedRows {

    final TextIds texts = new TextIds();
    private int size;
    private int[] textIds = new int[1024];
    private int[] labels = new int[1024];
    private int[] lengths = new int[1024];
    private int[] textLengths = new int[1024];

    /** Row {@link #size()}: {@code row} with label number {@code label}. */
    void add(Example row, int label) {
        if (size == textIds.length) {
            int capacity = Math.multiplyExact(size, 2);
            textIds = Arrays.copyOf(textIds, capacity);
            labels = Arrays.copyOf(labels, capacity);
            lengths = Arrays.copyOf(lengths, capacity);
            textLengths = Arrays.copyOf(textLengths, capacity);
        }
        textIds[size] = texts.idOf(row.text());
        labels[size] = label;
        lengths[size] = row.tokens().length;
        textLengths[size] = row.textTokens();
        size++;
    }

    int size() {
        return size;
    }

    int textId(int row) {
        return textIds[row];
    }

    int label(int row) {
        return labels[row];
    }

    /** Tokens kept (at most max_length). */
    int length(int row) {
        return lengths[row];
    }

    /** Tokens of the whole text. */
    int textLength(int row) {
        return textLengths[row];
    }

    /** Renumbers the labels of the rows so far: label {@code l} becomes {@code newNumbers[l]}. */
    void relabel(int[] newNumbers) {
        for (int row = 0; row < size; row++) {
            labels[row] = newNumbers[labels[row]];
        }
    }
}
