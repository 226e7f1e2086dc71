package io.gpt2cls.tokenizer;

import java.util.Objects;

/**
 * How a text's token ids are cut for the model: at most {@code maxLength} ids, keeping the end that
 * {@code side} keeps. {@code prepare} decides it ({@code max_length}, {@code truncation_side}),
 * training records it in the checkpoint's {@code tokenizer_config.json} ({@code model_max_length},
 * {@code truncation_side}) and {@code classify} reads it back from there, so serving cuts every text
 * exactly as training saw it.
 */
public record Truncation(int maxLength, TruncationSide side) {

    public Truncation {
        if (maxLength < 1) {
            throw new IllegalArgumentException("a text must keep at least one token, got max length " + maxLength);
        }
        Objects.requireNonNull(side, "side");
    }

    public int[] apply(int[] ids) {
        return side.truncate(ids, maxLength);
    }

    /** Whether {@link #apply} drops tokens of {@code ids}. */
    public boolean cuts(int[] ids) {
        return ids.length > maxLength;
    }
}
