package io.gpt2cls.tokenizer;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * What a {@code tokenizer.json} does to text, as a hash: two files that turn every text into the same
 * ids have the same fingerprint, whatever their formatting, key order or library version, so a dataset
 * prepared with the built-in GPT-2 tokenizer trains a Hub GPT-2 whose own file differs only in bytes.
 *
 * <p>The fingerprint covers the parts that decide the ids, each hashed on its own so a difference can
 * be named ({@link #differencesFrom}):
 * <ul>
 *   <li>{@code model}: its type and options (BPE: dropout, unk_token, continuing_subword_prefix,
 *       end_of_word_suffix, fuse_unk, byte_fallback, ignore_merges),</li>
 *   <li>{@code vocab}: token to id (order-free), {@code merges}: in rank order,</li>
 *   <li>{@code normalizer}, {@code pre_tokenizer}, {@code post_processor},</li>
 *   <li>{@code added_tokens}: by id, with content, special, single_word, lstrip, rstrip, normalized.</li>
 * </ul>
 * Left out, because they never change an id: {@code version}, {@code truncation} and {@code padding}
 * (settings we replace: texts are cut and padded by this project, not by the library), the
 * {@code decoder} (ids to text only) and every {@code trim_offsets} (character offsets only).
 * Spellings that mean the same are made one before hashing: a missing option and its default
 * (BPE's {@code fuse_unk} false, ByteLevel's {@code add_prefix_space} and {@code use_regex} true), an
 * empty and an absent subword prefix or suffix, a BPE model without {@code type} (older files), and
 * merges written as {@code "a b"} or {@code ["a", "b"]} (tokenizers 0.20+).
 *
 * @param sha256 the hash of all parts together
 * @param parts each part's hash, by the names above
 */
public record TokenizerFingerprint(String sha256, Map<String, String> parts) {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    /** Options that only move character offsets. */
    private static final String OFFSETS_ONLY = "trim_offsets";

    public static TokenizerFingerprint of(Path tokenizerJson) throws IOException {
        JsonNode root;
        try {
            root = JSON.readTree(tokenizerJson.toFile());
        } catch (IOException e) {
            throw new TokenizerFormatException(tokenizerJson + " is not valid JSON: " + e.getMessage());
        }
        if (root == null || !root.isObject() || !root.path("model").isObject()) {
            throw new TokenizerFormatException(tokenizerJson + " is not a Hugging Face tokenizer.json (no 'model' object)");
        }
        return of(root);
    }

    static TokenizerFingerprint of(JsonNode root) {
        JsonNode model = root.get("model");
        Map<String, JsonNode> canonical = new LinkedHashMap<>();
        canonical.put("model", modelOptions(model));
        canonical.put("vocab", model.path("vocab"));
        canonical.put("merges", merges(model.path("merges")));
        canonical.put("normalizer", component(root.get("normalizer")));
        canonical.put("pre_tokenizer", component(root.get("pre_tokenizer")));
        canonical.put("post_processor", component(root.get("post_processor")));
        canonical.put("added_tokens", addedTokens(root.path("added_tokens")));
        Map<String, String> parts = new LinkedHashMap<>();
        StringBuilder all = new StringBuilder();
        canonical.forEach((name, node) -> {
            String hash = TextTokenizer.sha256(canonicalText(node).getBytes(StandardCharsets.UTF_8));
            parts.put(name, hash);
            all.append(name).append('=').append(hash).append('\n');
        });
        return new TokenizerFingerprint(TextTokenizer.sha256(all.toString().getBytes(StandardCharsets.UTF_8)), parts);
    }

    /** The names of the parts that differ from {@code other}'s; empty when both tokenize alike. */
    public List<String> differencesFrom(TokenizerFingerprint other) {
        List<String> differing = new ArrayList<>();
        for (Map.Entry<String, String> part : parts.entrySet()) {
            if (!Objects.equals(part.getValue(), other.parts.get(part.getKey()))) {
                differing.add(part.getKey());
            }
        }
        if (differing.isEmpty() && !sha256.equals(other.sha256)) {
            differing.add("fingerprint");
        }
        return differing;
    }

    /** The model's type and options; vocab and merges are parts of their own. */
    private static JsonNode modelOptions(JsonNode model) {
        ObjectNode options = ((ObjectNode) model).deepCopy();
        options.remove(List.of("vocab", "merges"));
        boolean bpe = !options.hasNonNull("type") ? model.has("merges") : "BPE".equals(options.get("type").asText());
        if (!options.hasNonNull("type") && bpe) {
            options.put("type", "BPE"); // older files leave the (then only) BPE model's type out
        }
        if (bpe) {
            defaults(options, Map.of("fuse_unk", false, "byte_fallback", false, "ignore_merges", false));
            for (String affix : List.of("continuing_subword_prefix", "end_of_word_suffix")) {
                if (options.path(affix).asText("").isEmpty()) {
                    options.putNull(affix); // BPE adds an empty affix and none alike
                }
            }
            if (!options.has("dropout")) {
                options.putNull("dropout");
            }
            if (!options.has("unk_token")) {
                options.putNull("unk_token");
            }
        }
        return options;
    }

    /** Merges in rank order, each as "left right" (the form tokenizers before 0.20 write). */
    private static JsonNode merges(JsonNode merges) {
        ArrayNode out = NODES.arrayNode();
        for (JsonNode merge : merges) {
            out.add(merge.isArray() ? merge.get(0).asText() + " " + merge.get(1).asText() : merge.asText());
        }
        return out;
    }

    /** A normalizer, pre-tokenizer or post-processor (or a Sequence of them), with defaults filled in. */
    private static JsonNode component(JsonNode node) {
        if (node == null || node.isNull()) {
            return NODES.nullNode();
        }
        JsonNode copy = node.deepCopy();
        stripOffsetsAndFillDefaults(copy);
        return copy;
    }

    private static void stripOffsetsAndFillDefaults(JsonNode node) {
        if (node.isObject()) {
            ObjectNode object = (ObjectNode) node;
            object.remove(OFFSETS_ONLY);
            if ("ByteLevel".equals(object.path("type").asText())) {
                defaults(object, Map.of("add_prefix_space", true, "use_regex", true));
            }
            object.forEach(TokenizerFingerprint::stripOffsetsAndFillDefaults);
        } else if (node.isArray()) {
            node.forEach(TokenizerFingerprint::stripOffsetsAndFillDefaults);
        }
    }

    /** Added tokens sorted by id, each with every flag spelled out. */
    private static JsonNode addedTokens(JsonNode tokens) {
        TreeMap<Long, JsonNode> byId = new TreeMap<>();
        for (JsonNode token : tokens) {
            ObjectNode t = NODES.objectNode();
            boolean special = token.path("special").asBoolean(false);
            t.put("content", token.path("content").asText());
            t.put("special", special);
            t.put("single_word", token.path("single_word").asBoolean(false));
            t.put("lstrip", token.path("lstrip").asBoolean(false));
            t.put("rstrip", token.path("rstrip").asBoolean(false));
            t.put("normalized", token.path("normalized").asBoolean(!special));
            byId.put(token.path("id").asLong(), t);
        }
        ObjectNode out = NODES.objectNode();
        byId.forEach((id, t) -> out.set(Long.toString(id), t));
        return out;
    }

    private static void defaults(ObjectNode object, Map<String, Boolean> defaults) {
        defaults.forEach((key, value) -> {
            if (!object.hasNonNull(key)) {
                object.put(key, value);
            }
        });
    }

    /** Compact JSON with every object's keys sorted: one text per meaning. */
    private static String canonicalText(JsonNode node) {
        StringBuilder out = new StringBuilder();
        write(node, out);
        return out.toString();
    }

    private static void write(JsonNode node, StringBuilder out) {
        if (node.isObject()) {
            TreeMap<String, JsonNode> sorted = new TreeMap<>();
            for (Map.Entry<String, JsonNode> field : node.properties()) {
                sorted.put(field.getKey(), field.getValue());
            }
            out.append('{');
            boolean first = true;
            for (Map.Entry<String, JsonNode> field : sorted.entrySet()) {
                out.append(first ? "" : ",").append(NODES.textNode(field.getKey())).append(':');
                write(field.getValue(), out);
                first = false;
            }
            out.append('}');
        } else if (node.isArray()) {
            out.append('[');
            for (int i = 0; i < node.size(); i++) {
                out.append(i == 0 ? "" : ",");
                write(node.get(i), out);
            }
            out.append(']');
        } else {
            out.append(node); // numbers in their shortest form: 1 and 1.0 stay different, as the library reads them
        }
    }
}
