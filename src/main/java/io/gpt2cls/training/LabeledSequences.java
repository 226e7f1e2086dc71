package io.gpt2cls.training;

/** Tokenized, labelled rows that training and evaluation read; implemented over dataset shards. */
public interface LabeledSequences {
    int size();

    int[] tokens(int row);

    int label(int row);

    default int length(int row) {
        return tokens(row).length;
    }
}
