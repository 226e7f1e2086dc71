package io.gpt2cls.model;

import java.util.List;

/**
 * A right-padded batch of token ids on the host, row-major (B x T), with its attention mask
 * (1 = real token, 0 = padding). Padding is dynamic: T is the longest row of this batch.
 */
public record TokenBatch(int[] inputIds, int[] attentionMask, int batchSize, int seqLen) {

    public TokenBatch {
        if (inputIds.length != batchSize * seqLen || attentionMask.length != inputIds.length) {
            throw new IllegalArgumentException("ids and mask must both hold " + batchSize + " x " + seqLen + " values");
        }
    }

    /** Pads every row on the right with {@code padId} to the longest row. */
    public static TokenBatch rightPadded(List<int[]> rows, int padId) {
        if (rows.isEmpty()) {
            throw new IllegalArgumentException("a batch needs at least one row");
        }
        int t = rows.stream().mapToInt(r -> r.length).max().orElse(0);
        if (t == 0) {
            throw new IllegalArgumentException("every row of the batch is empty; each text needs at least one token");
        }
        int[] ids = new int[rows.size() * t];
        int[] mask = new int[rows.size() * t];
        java.util.Arrays.fill(ids, padId);
        for (int row = 0; row < rows.size(); row++) {
            int[] r = rows.get(row);
            System.arraycopy(r, 0, ids, row * t, r.length);
            java.util.Arrays.fill(mask, row * t, row * t + r.length, 1);
        }
        return new TokenBatch(ids, mask, rows.size(), t);
    }

    public int id(int row, int pos) {
        return inputIds[row * seqLen + pos];
    }

    public long[] inputIdsAsLongs() {
        long[] out = new long[inputIds.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = inputIds[i];
        }
        return out;
    }

    public float[] attentionMaskAsFloats() {
        float[] out = new float[attentionMask.length];
        for (int i = 0; i < out.length; i++) {
            out[i] = attentionMask[i];
        }
        return out;
    }
}
