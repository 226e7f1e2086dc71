package io.gpt2cls.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Which end of a too-long text is cut, with Hugging Face's names and meaning: {@code right} (the
 * default) keeps the start, {@code left} keeps the end (for emails: the body and its footer rather
 * than the routing headers). Training and serving must cut the same way, so a checkpoint records
 * it as {@code truncation_side} in {@code tokenizer_config.json}, where {@code AutoTokenizer} reads it.
 */
public enum TruncationSide {
    RIGHT, LEFT;

    static final String CONFIG_KEY = "truncation_side";

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

    /** Records this side in {@code dir}'s tokenizer_config.json, as {@code save_pretrained} would. */
    public void writeTo(Path dir) throws IOException {
        Path config = dir.resolve("tokenizer_config.json");
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ObjectNode node = Files.exists(config) ? (ObjectNode) json.readTree(config.toFile()) : json.createObjectNode();
        node.put(CONFIG_KEY, id());
        Files.writeString(config, json.writeValueAsString(node));
    }

    /** The side recorded in a model directory's tokenizer_config.json; right when absent. */
    public static TruncationSide ofModel(Path modelDir) throws IOException {
        Path config = modelDir.resolve("tokenizer_config.json");
        if (!Files.exists(config)) {
            return RIGHT;
        }
        return parse(new ObjectMapper().readTree(config.toFile()).path(CONFIG_KEY).asText(null));
    }
}
