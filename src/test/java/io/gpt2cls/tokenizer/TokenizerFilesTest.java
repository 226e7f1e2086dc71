package io.gpt2cls.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

class TokenizerFilesTest {

    @TempDir
    static Path shared;
    static Path gpt2;
    static final ObjectMapper JSON = new ObjectMapper();

    @BeforeAll
    static void build() throws Exception {
        gpt2 = Gpt2TokenizerBuilder.writeTo(shared.resolve("gpt2"));
    }

    static JsonNode read(Path file) throws Exception {
        return JSON.readTree(file.toFile());
    }

    @Test
    void recordsPadTokenCutLengthAndSideAndServingReadsThemBack(@TempDir Path model) throws Exception {
        TokenizerFiles.forModel(gpt2, 50256, new Truncation(24, TruncationSide.LEFT)).writeTo(model);

        JsonNode config = read(model.resolve("tokenizer_config.json"));
        assertEquals("<|endoftext|>", config.path("pad_token").asText());
        assertEquals(24, config.path("model_max_length").asInt());
        assertEquals("left", config.path("truncation_side").asText());
        assertEquals("right", config.path("padding_side").asText());
        assertEquals("GPT2Tokenizer", config.path("tokenizer_class").asText());
        JsonNode endOfText = config.path("added_tokens_decoder").path("50256");
        assertEquals("<|endoftext|>", endOfText.path("content").asText());
        assertTrue(endOfText.path("special").asBoolean());
        JsonNode special = read(model.resolve("special_tokens_map.json"));
        for (String key : new String[] {"bos_token", "eos_token", "unk_token", "pad_token"}) {
            assertEquals("<|endoftext|>", special.path(key).asText(), key);
        }
        assertEquals(-1L, Files.mismatch(gpt2, model.resolve("tokenizer.json")), "tokenizer.json is copied as it is");

        assertEquals(new Truncation(24, TruncationSide.LEFT), TokenizerFiles.truncationOf(model, 512));
        assertEquals(new Truncation(16, TruncationSide.LEFT), TokenizerFiles.truncationOf(model, 16), "never past n_positions");
    }

    @Test
    void aBaseTokenizerConfigWithoutPadTokenGetsTheTokenOfPadTokenIdAndKeepsItsOtherKeys(@TempDir Path dir) throws Exception {
        Path base = Files.createDirectories(dir.resolve("base"));
        Files.copy(gpt2, base.resolve("tokenizer.json"));
        // the Hub's gpt2 tokenizer_config.json: no pad token, special tokens as AddedToken objects
        Files.writeString(base.resolve("tokenizer_config.json"), """
                {"add_prefix_space": false, "errors": "replace", "model_max_length": 1024, "tokenizer_class": "GPT2Tokenizer",
                 "bos_token": {"__type": "AddedToken", "content": "<|endoftext|>", "lstrip": false, "normalized": true,
                               "rstrip": false, "single_word": false},
                 "eos_token": "<|endoftext|>", "unk_token": "<|endoftext|>"}
                """);
        TokenizerFiles.forModel(base.resolve("tokenizer.json"), 50256, new Truncation(256, TruncationSide.RIGHT))
                .writeTo(Files.createDirectories(dir.resolve("model")));
        JsonNode config = read(dir.resolve("model/tokenizer_config.json"));
        assertEquals("<|endoftext|>", config.path("pad_token").asText());
        assertEquals(256, config.path("model_max_length").asInt());
        assertEquals("replace", config.path("errors").asText(), "keys we do not set are kept");
        assertEquals("<|endoftext|>", config.path("bos_token").path("content").asText());
        JsonNode special = read(dir.resolve("model/special_tokens_map.json"));
        assertEquals("<|endoftext|>", special.path("pad_token").asText());
        assertEquals("<|endoftext|>", special.path("bos_token").path("content").asText());
        assertFalse(special.has("errors"), "only special tokens go into special_tokens_map.json");
    }

    @Test
    void aPadTokenIdOutsideTheVocabularyIsRefused(@TempDir Path model) {
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class,
                () -> TokenizerFiles.forModel(gpt2, 60000, new Truncation(24, TruncationSide.RIGHT)));
        assertTrue(e.getMessage().contains("pad_token_id 60000"), e.getMessage());
    }

    @Test
    void withoutTokenizerConfigOrWithNoLimitServingCutsAtNPositionsOnTheRight(@TempDir Path model) throws Exception {
        assertEquals(new Truncation(512, TruncationSide.RIGHT), TokenizerFiles.truncationOf(model, 512));
        Files.writeString(model.resolve("tokenizer_config.json"), "{\"model_max_length\": 1000000000000000019884624838656}");
        assertEquals(new Truncation(1024, TruncationSide.RIGHT), TokenizerFiles.truncationOf(model, 1024));
    }

    @Test
    void anUnknownTruncationSideIsAFormatErrorNamingTheFile(@TempDir Path model) throws Exception {
        Files.writeString(model.resolve("tokenizer_config.json"), "{\"truncation_side\": \"middle\"}");
        TokenizerFormatException e = assertThrows(TokenizerFormatException.class, () -> TokenizerFiles.truncationOf(model, 64));
        assertTrue(e.getMessage().contains("tokenizer_config.json") && e.getMessage().contains("middle"), e.getMessage());
    }
}
