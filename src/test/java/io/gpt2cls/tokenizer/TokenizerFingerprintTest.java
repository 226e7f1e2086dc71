package io.gpt2cls.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokenizers are the same when they make the same ids, whatever their bytes; a real difference is named. */
class TokenizerFingerprintTest {

    @TempDir
    Path dir;

    @Test
    void theHubsSpellingOfGpt2IsTheBuiltInTokenizer() throws Exception {
        Path builtIn = Gpt2TokenizerBuilder.cached();
        Path hub = HubStyleTokenizers.gpt2(dir.resolve("hub"));
        assertNotEquals(TextTokenizer.sha256(Files.readAllBytes(builtIn)), TextTokenizer.sha256(Files.readAllBytes(hub)),
                "other bytes");
        assertEquals(TokenizerFingerprint.of(builtIn), TokenizerFingerprint.of(hub));
        assertEquals(TokenizerFingerprint.of(builtIn), TokenizerFingerprint.of(HubStyleTokenizers.gpt2WithMergePairs(dir.resolve("pairs"))));
        // and the library agrees: the same ids for the same text
        String text = "Subject: Re: [SPAM] You WON $1,000,000!!! café 😀 <|endoftext|>  spaces\n";
        try (TextTokenizer a = TextTokenizer.load(builtIn); TextTokenizer b = TextTokenizer.load(hub)) {
            assertArrayEquals(a.encode(text), b.encode(text));
        }
    }

    @Test
    void swappedMergesAreAnotherTokenizerAndSaySo() throws Exception {
        TokenizerFingerprint builtIn = TokenizerFingerprint.of(Gpt2TokenizerBuilder.cached());
        TokenizerFingerprint swapped = TokenizerFingerprint.of(HubStyleTokenizers.gpt2WithSwappedMerges(dir));
        assertNotEquals(builtIn.sha256(), swapped.sha256());
        assertEquals(List.of("merges"), swapped.differencesFrom(builtIn));
    }

    @Test
    void anAddedTokenIsAnotherTokenizerAndSaysSo() throws Exception {
        TokenizerFingerprint builtIn = TokenizerFingerprint.of(Gpt2TokenizerBuilder.cached());
        TokenizerFingerprint added = TokenizerFingerprint.of(HubStyleTokenizers.gpt2WithAddedToken(dir));
        assertEquals(List.of("added_tokens"), added.differencesFrom(builtIn));
    }

    @Test
    void aPreTokenizerOptionThatChangesIdsCounts() throws Exception {
        String builtIn = Files.readString(Gpt2TokenizerBuilder.cached());
        Path prefixed = Files.writeString(dir.resolve("tokenizer.json"),
                builtIn.replaceFirst("\"add_prefix_space\" : false", "\"add_prefix_space\" : true"));
        assertEquals(List.of("pre_tokenizer"), TokenizerFingerprint.of(prefixed).differencesFrom(TokenizerFingerprint.of(Gpt2TokenizerBuilder.cached())));
    }
}
