package io.gpt2cls.dataset;

/** An accepted, tokenized row: its token ids (already cut to the maximum length) and its label. */
record Example(RowLocation location, String label, int[] tokens, boolean truncated) {}
