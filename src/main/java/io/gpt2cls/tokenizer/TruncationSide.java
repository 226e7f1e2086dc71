package io.gpt2cls.tokenizer;

import java.util.Arrays;
import java.util.Locale;

/**
 * Which end of a too-long text is cut, with Hugging Face's names and meaning: {@code right} (the
 * default) keeps the start, {@code left} keeps the end (for emails: the body and its footer rather
 * than the routing headers). Training and serving must cut the same way, so a checkpoint records
 * it as {@code truncation_side} in {@code tokenizer_config.json} (see {@link Truncation}), where
 * {@code AutoTokenizer} reads it.
 */
public enum TruncationSide {
    RIGHT, LEFT;

    public int[] truncate(int[] ids, int maxLength) {
        if (ids.length <= maxLength) {
            return ids;
        }
        return this == RIGHT ? Arrays.copyOf(ids, maxLength) : Arrays.copyOfRange(ids, ids.length - maxLength, ids.length);
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static TruncationSide parse(String value) {
        if (value == null) {
            return RIGHT;
        }
        return switch (value) {
            case "right" -> RIGHT;
            case "left" -> LEFT;
            default -> throw new IllegalArgumentException("truncation_side must be 'right' (keep the start of a text) or"
                    + " 'left' (keep its end), got '" + value + "'");
        };
    }
}
