package io.gpt2cls.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * The tokenizer files of a model directory, as transformers' tokenizer {@code save_pretrained}
 * writes them: {@code tokenizer.json} (copied as it is), {@code tokenizer_config.json} and
 * {@code special_tokens_map.json}, keys sorted as {@code json.dumps(sort_keys=True)} sorts them.
 *
 * <p>The keys that must agree with the model are set here, never copied from a base model as they were:
 * <ul>
 *   <li>{@code pad_token}: the token of config.json's {@code pad_token_id}. transformers pads with the
 *       tokenizer's pad token while the model pools on config's pad id, and transformers.js cannot pad
 *       without one.</li>
 *   <li>{@code model_max_length}, {@code truncation_side}: how training cut the texts, so
 *       {@code AutoTokenizer(..., truncation=True)} and {@code classify} cut them the same way and
 *       never past {@code n_positions}.</li>
 *   <li>{@code padding_side}: right, as this model's positions (0..T-1 from the first token) assume.</li>
 *   <li>{@code added_tokens_decoder}: the added tokens of the {@code tokenizer.json} shipped beside it.</li>
 * </ul>
 * Other keys of a base model's {@code tokenizer_config.json} (tokenizer_class, bos/eos/unk tokens,
 * add_prefix_space, ...) are kept; without that file, GPT-2's are used.
 */
public final class TokenizerFiles {

    public static final String CONFIG_FILE = "tokenizer_config.json";
    public static final String SPECIAL_TOKENS_FILE = "special_tokens_map.json";
    /** The special-token keys {@code special_tokens_map.json} holds, when the tokenizer has them. */
    static final List<String> SPECIAL_TOKEN_KEYS = List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
            "cls_token", "mask_token", "additional_special_tokens");

    private static final Logger LOG = Logger.getLogger(TokenizerFiles.class);
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .enable(SerializationFeature.ORDER_MAP_ENTRIES_BY_KEYS);

    private final Path tokenizerJson;
    private final ObjectNode config;
    private final ObjectNode specialTokens;

    private TokenizerFiles(Path tokenizerJson, ObjectNode config, ObjectNode specialTokens) {
        this.tokenizerJson = tokenizerJson;
        this.config = config;
        this.specialTokens = specialTokens;
    }

    /**
     * The files for a model that pads with {@code padTokenId} and was trained on texts cut by
     * {@code truncation}, starting from the {@code tokenizer_config.json} beside {@code tokenizerJson}.
     */
    public static TokenizerFiles forModel(Path tokenizerJson, int padTokenId, Truncation truncation) throws IOException {
        JsonNode tokenizer = readJson(tokenizerJson);
        Path baseFile = tokenizerJson.resolveSibling(CONFIG_FILE);
        ObjectNode config = Gpt2TokenizerBuilder.tokenizerConfig();
        if (Files.exists(baseFile)) {
            JsonNode base = readJson(baseFile);
            if (!base.isObject()) {
                throw new TokenizerFormatException(baseFile + " is not a JSON object of tokenizer settings");
            }
            config = (ObjectNode) base.deepCopy();
        }

        String padToken = tokenContent(tokenizer, padTokenId);
        if (padToken == null) {
            throw new TokenizerFormatException("pad_token_id " + padTokenId + " is not a token of " + tokenizerJson
                    + "; set config.json's pad_token_id to a token of this tokenizer (GPT-2's: 50256, <|endoftext|>)");
        }
        String basePad = tokenText(config.path("pad_token"));
        if (basePad != null && !basePad.equals(padToken)) {
            LOG.warnf("%s names pad_token '%s' but the model pads with id %d ('%s'); writing '%s'",
                    baseFile, basePad, padTokenId, padToken, padToken);
        }
        config.put("pad_token", padToken);
        config.put("model_max_length", truncation.maxLength());
        config.put("truncation_side", truncation.side().id());
        config.put("padding_side", "right");
        ObjectNode added = config.putObject("added_tokens_decoder");
        for (JsonNode token : tokenizer.path("added_tokens")) {
            ObjectNode entry = added.putObject(token.path("id").asText());
            for (String key : List.of("content", "lstrip", "normalized", "rstrip", "single_word", "special")) {
                entry.set(key, token.path(key));
            }
        }

        ObjectNode specialTokens = JSON.createObjectNode();
        for (String key : SPECIAL_TOKEN_KEYS) {
            if (config.hasNonNull(key)) {
                specialTokens.set(key, config.get(key));
            }
        }
        return new TokenizerFiles(tokenizerJson, config, specialTokens);
    }

    /** Writes tokenizer.json, tokenizer_config.json and special_tokens_map.json into {@code dir}. */
    public void writeTo(Path dir) throws IOException {
        Path target = dir.resolve(TextTokenizer.TOKENIZER_FILE);
        if (!Files.exists(target) || !Files.isSameFile(tokenizerJson, target)) {
            Files.copy(tokenizerJson, target, StandardCopyOption.REPLACE_EXISTING);
        }
        Files.writeString(dir.resolve(CONFIG_FILE), sortedJson(config));
        Files.writeString(dir.resolve(SPECIAL_TOKENS_FILE), sortedJson(specialTokens));
    }

    /**
     * How texts are cut for the model in {@code modelDir}: {@code model_max_length} of its
     * tokenizer_config.json, at most {@code nPositions} (a Hub tokenizer may say 1e30, "no limit"),
     * and its {@code truncation_side}. Without the file: n_positions, right.
     */
    public static Truncation truncationOf(Path modelDir, int nPositions) throws IOException {
        Path file = modelDir.resolve(CONFIG_FILE);
        if (!Files.exists(file)) {
            return new Truncation(nPositions, TruncationSide.RIGHT);
        }
        JsonNode config = readJson(file);
        JsonNode maxLength = config.path("model_max_length");
        if (!maxLength.isMissingNode() && !maxLength.isNull() && !(maxLength.isNumber() && maxLength.asDouble() >= 1)) {
            throw new TokenizerFormatException(file + ": model_max_length must be a positive number of tokens, got " + maxLength);
        }
        int length = maxLength.isNumber() && maxLength.asDouble() < nPositions ? maxLength.asInt() : nPositions;
        try {
            return new Truncation(length, TruncationSide.parse(config.path("truncation_side").asText(null)));
        } catch (IllegalArgumentException e) {
            throw new TokenizerFormatException(file + ": " + e.getMessage());
        }
    }

    /** The content of the token with {@code id}: an added token, or an entry of the model's vocabulary. */
    static String tokenContent(JsonNode tokenizer, int id) {
        for (JsonNode token : tokenizer.path("added_tokens")) {
            if (token.path("id").asInt(-1) == id) {
                return token.path("content").asText();
            }
        }
        JsonNode vocab = tokenizer.path("model").path("vocab");
        if (vocab.isObject()) { // BPE, WordPiece, WordLevel: token -> id
            for (Iterator<Map.Entry<String, JsonNode>> it = vocab.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> entry = it.next();
                if (entry.getValue().asInt(-1) == id) {
                    return entry.getKey();
                }
            }
        } else if (vocab.isArray() && id >= 0 && id < vocab.size()) { // Unigram: [token, score] at index id
            return vocab.get(id).path(0).asText(null);
        }
        return null;
    }

    /** A special token's text, written as a string or (older files) as {"content": ...}. */
    private static String tokenText(JsonNode token) {
        return token.isTextual() ? token.asText() : token.isObject() ? token.path("content").asText(null) : null;
    }

    private static JsonNode readJson(Path file) throws IOException {
        try {
            return JSON.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new TokenizerFormatException(file + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    private static String sortedJson(ObjectNode node) throws JsonProcessingException {
        return JSON.writeValueAsString(JSON.convertValue(node, new TypeReference<Map<String, Object>>() {})) + "\n";
    }
}
