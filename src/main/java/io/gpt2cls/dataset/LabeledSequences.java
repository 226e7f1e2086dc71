package io.gpt2cls.dataset;

/** Tokenized, labelled rows, as training and evaluation read them: a prepared split, or rows made in memory. */
public interface LabeledSequences {
    int size();

    int[] tokens(int row);

    int label(int row);

    default int length(int row) {
        return tokens(row).length;
    }
}
