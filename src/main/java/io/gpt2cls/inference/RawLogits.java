package io.gpt2cls.inference;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.TokenBatch;
import io.gpt2cls.runtime.NativeRuntime;

/**
 * Logits for given token ids, so users can compare this implementation with Python
 * {@code transformers} on their own checkpoints, row by row.
 */
public final class RawLogits {

    public record Row(float[] logits, int poolIndex) {}

    private RawLogits() {}

    /**
     * @param ids token ids per row; rows may differ in length and are right-padded with pad_token_id
     * @param mask per row 1 (token) / 0 (padding), same shape as ids; null means every given id is a token
     */
    public static List<Row> compute(Path modelDir, int[][] ids, int[][] mask) throws IOException {
        NativeRuntime.init();
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = ModelCheckpoint.load(modelDir, root);
             NDManager step = root.newSubManager()) {
            TokenBatch batch = batch(model, ids, mask);
            Gpt2ForSequenceClassification.Output out = model.forward(batch, step, false);
            float[] flat = out.logits().toFloatArray();
            int labels = model.config.numLabels();
            List<Row> rows = new ArrayList<>();
            for (int r = 0; r < ids.length; r++) {
                rows.add(new Row(Arrays.copyOfRange(flat, r * labels, (r + 1) * labels), out.poolIndex()[r]));
            }
            return rows;
        }
    }

    private static TokenBatch batch(Gpt2ForSequenceClassification model, int[][] ids, int[][] mask) {
        if (ids.length == 0) {
            throw new IllegalArgumentException("input_ids has no rows");
        }
        int vocab = model.config.vocab_size;
        int t = Arrays.stream(ids).mapToInt(r -> r.length).max().orElse(0);
        if (t == 0) {
            throw new IllegalArgumentException("input_ids rows are all empty");
        }
        if (t > model.config.n_positions) {
            throw new IllegalArgumentException("a row has " + t + " tokens, more than the model's n_positions ("
                    + model.config.n_positions + ")");
        }
        if (model.config.pad_token_id == null && ids.length > 1 && needsPadding(ids, mask)) {
            // the score head would read padding in the shorter rows (no pad token to find the last real one)
            throw new IllegalArgumentException("Cannot handle batch sizes > 1 if no padding token is defined (transformers'"
                    + " answer): the model's config.json has no pad_token_id, and the rows differ in length or are masked."
                    + " Set pad_token_id in config.json (GPT-2 pads with 50256), or pass one row at a time");
        }
        int pad = model.config.pad_token_id == null ? 0 : model.config.pad_token_id;
        int[] flatIds = new int[ids.length * t];
        int[] flatMask = new int[ids.length * t];
        Arrays.fill(flatIds, pad);
        for (int r = 0; r < ids.length; r++) {
            if (mask != null && mask[r].length != ids[r].length) {
                throw new IllegalArgumentException("row " + r + ": attention_mask has " + mask[r].length
                        + " values but input_ids has " + ids[r].length);
            }
            for (int p = 0; p < ids[r].length; p++) {
                if (ids[r][p] < 0 || ids[r][p] >= vocab) {
                    throw new IllegalArgumentException("row " + r + " position " + p + ": id " + ids[r][p]
                            + " is outside the vocabulary (0.." + (vocab - 1) + ")");
                }
                flatIds[r * t + p] = ids[r][p];
                flatMask[r * t + p] = mask == null ? 1 : mask[r][p];
            }
        }
        return new TokenBatch(flatIds, flatMask, ids.length, t);
    }

    /** Whether some row is shorter than another or has a masked position. */
    private static boolean needsPadding(int[][] ids, int[][] mask) {
        for (int r = 0; r < ids.length; r++) {
            if (ids[r].length != ids[0].length || (mask != null && Arrays.stream(mask[r]).anyMatch(m -> m == 0))) {
                return true;
            }
        }
        return false;
    }
}
