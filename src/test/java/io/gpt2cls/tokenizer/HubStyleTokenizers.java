package io.gpt2cls.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * GPT-2's tokenizer.json as the Hub's {@code openai-community/gpt2} spells it (written by an older
 * tokenizers): the same tokenizer in other bytes. The BPE model has no {@code type}, {@code byte_fallback}
 * or {@code ignore_merges}, ByteLevel has no {@code use_regex}, keys come in another order, added tokens
 * put {@code special} first, the JSON is compact, and the decoder trims offsets differently (it cannot
 * change an id). Also the variants that are really different tokenizers.
 */
public final class HubStyleTokenizers {

    private static final ObjectMapper JSON = new ObjectMapper();

    private HubStyleTokenizers() {}

    /** Writes the Hub-spelled GPT-2 tokenizer.json into {@code dir} and returns it. */
    public static Path gpt2(Path dir) throws IOException {
        return write(dir, hubSpelling(builtIn()));
    }

    /** GPT-2's merges written as pairs, as tokenizers 0.20+ saves them. */
    public static Path gpt2WithMergePairs(Path dir) throws IOException {
        ObjectNode root = builtIn();
        ArrayNode pairs = JSON.createArrayNode();
        for (JsonNode merge : root.path("model").path("merges")) {
            String[] parts = merge.asText().split(" ", 2);
            pairs.addArray().add(parts[0]).add(parts[1]);
        }
        ((ObjectNode) root.get("model")).set("merges", pairs);
        return write(dir, root);
    }

    /** A real difference: two merges swap ranks. */
    public static Path gpt2WithSwappedMerges(Path dir) throws IOException {
        ObjectNode root = builtIn();
        ArrayNode merges = (ArrayNode) root.path("model").path("merges");
        JsonNode first = merges.get(0);
        merges.set(0, merges.get(1));
        merges.set(1, first);
        return write(dir, hubSpelling(root));
    }

    /** A real difference: one more added token. */
    public static Path gpt2WithAddedToken(Path dir) throws IOException {
        ObjectNode root = builtIn();
        ((ArrayNode) root.get("added_tokens")).addObject().put("id", 50257).put("content", "<|pad|>").put("special", true);
        return write(dir, hubSpelling(root));
    }

    private static ObjectNode builtIn() throws IOException {
        return (ObjectNode) JSON.readTree(Gpt2TokenizerBuilder.cached().toFile());
    }

    private static ObjectNode hubSpelling(ObjectNode builtIn) {
        ObjectNode model = (ObjectNode) builtIn.get("model").deepCopy();
        model.remove(List.of("type", "byte_fallback", "ignore_merges"));
        ObjectNode reordered = JSON.createObjectNode(); // model options before vocab, as the Hub's file has them
        for (String key : List.of("dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix", "fuse_unk", "vocab", "merges")) {
            reordered.set(key, model.get(key));
        }
        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        ArrayNode added = root.putArray("added_tokens");
        for (JsonNode token : builtIn.get("added_tokens")) {
            ObjectNode t = added.addObject();
            t.set("id", token.get("id"));
            t.set("special", token.get("special"));
            for (Iterator<Map.Entry<String, JsonNode>> it = token.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> field = it.next();
                t.set(field.getKey(), field.getValue());
            }
        }
        root.putNull("truncation");
        root.putNull("padding");
        root.putNull("normalizer");
        for (String component : List.of("pre_tokenizer", "post_processor", "decoder")) {
            ObjectNode node = builtIn.get(component).deepCopy();
            node.remove("use_regex");
            root.set(component, node);
        }
        ((ObjectNode) root.get("decoder")).put("trim_offsets", false);
        root.set("model", reordered);
        return root;
    }

    private static Path write(Path dir, JsonNode root) throws IOException {
        Files.createDirectories(dir);
        Path file = dir.resolve(TextTokenizer.TOKENIZER_FILE);
        Files.writeString(file, JSON.writeValueAsString(root)); // compact, unlike the built-in file
        return file;
    }
}
