package io.gpt2cls.tokenizer;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.knuddels.jtokkit.Encodings;
import com.knuddels.jtokkit.api.Encoding;
import com.knuddels.jtokkit.api.EncodingType;

/** The tokenizer.json built from jtokkit's ranks must tokenize exactly like r50k_base (GPT-2). */
class Gpt2TokenizerBuilderTest {

    @TempDir
    static Path dir;
    static TextTokenizer tokenizer;
    static final Encoding R50K = Encodings.newDefaultEncodingRegistry().getEncoding(EncodingType.R50K_BASE);

    @BeforeAll
    static void build() throws Exception {
        tokenizer = TextTokenizer.load(Gpt2TokenizerBuilder.writeTo(dir));
    }

    @AfterAll
    static void close() {
        tokenizer.close();
    }

    static final String[] FRAGMENTS = {
        "Hello, world!", "The quick brown fox jumps over the lazy dog.", "I'm sure they'll say we've done it",
        "café naïve résumé Zürich façade", "Ærøskøbing, Ÿ, ß, œuvre", "😀👍🏽🚀 emoji 🇩🇪 flags", "👨‍👩‍👧‍👦 family",
        "日本語のテキストです。", "中文文本，测试一下。", "한국어 문장입니다", "Привет, мир", "مرحبا بالعالم", "שלום עולם",
        "     ", "\n\n\n", "\t\t  \t", "  \n  \n", "trailing spaces   ", "   leading", " ", "\r\n",
        "1234567890", "3.14159265", "1,000,000", "+49 (0)30 1234-5678", "2026-11-27T22:17:00Z", "0x7fffffff",
        "def f(x):\n    return x ** 2  # square", "for (int i = 0; i < n; i++) { sum += a[i]; }",
        "<html><body class=\"main\">Hi &amp; bye</body></html>", "SELECT * FROM users WHERE id = 42;",
        "From: John Doe <john.doe@example.com>", "Subject: Re: [SPAM] You WON $1,000,000!!!",
        "Received: from mail.example.org (mail.example.org [192.168.1.10])", "Content-Type: text/plain; charset=\"us-ascii\"",
        "http://www.example.com/path?q=1&r=two#frag", "C:\\Program Files\\App\\app.exe", "--- a/file\n+++ b/file",
        "!!!???...", "''\"\"``", "A", "a", "'s", "'S", "ll've're", "don't DON'T", "e-mail: x@y.z", "#hashtag @mention",
        "MiXeD CaSe WoRdS", "UPPERCASE SHOUTING", "tab\tseparated\tvalues", "\u00a0non-breaking\u00a0space", "zero\u200bwidth",
    };

    static List<String> sampleTexts() {
        Random random = new Random(7);
        List<String> texts = new ArrayList<>(List.of(FRAGMENTS));
        while (texts.size() < 600) {
            StringBuilder sb = new StringBuilder();
            int parts = 1 + random.nextInt(6);
            for (int i = 0; i < parts; i++) {
                sb.append(FRAGMENTS[random.nextInt(FRAGMENTS.length)]);
                int sep = random.nextInt(5);
                sb.append(sep == 0 ? "" : sep == 1 ? " " : sep == 2 ? "\n" : sep == 3 ? "  " : " ".repeat(random.nextInt(12)));
            }
            texts.add(sb.toString());
        }
        return texts;
    }

    @Test
    void idsEqualJtokkitR50kOnVariedText() {
        List<String> texts = sampleTexts();
        assertTrue(texts.size() >= 500);
        for (String text : texts) {
            assertArrayEquals(R50K.encodeOrdinary(text).toArray(), tokenizer.encode(text), () -> "text: " + text);
        }
    }

    @Test
    void decodeInvertsEncode() {
        for (String text : sampleTexts()) {
            assertEquals(text, tokenizer.decode(tokenizer.encode(text)));
        }
    }

    @Test
    void batchEncodingEqualsSingleEncoding() {
        List<String> texts = sampleTexts().subList(0, 50);
        List<int[]> batch = tokenizer.encodeAll(texts);
        for (int i = 0; i < texts.size(); i++) {
            assertArrayEquals(tokenizer.encode(texts.get(i)), batch.get(i));
        }
    }

    @Test
    void truncationKeepsTheStartOnTheRightSideAndTheEndOnTheLeft() {
        int[] ids = {1, 2, 3, 4, 5};
        assertArrayEquals(new int[] {1, 2, 3}, TruncationSide.RIGHT.truncate(ids, 3));
        assertArrayEquals(new int[] {3, 4, 5}, TruncationSide.LEFT.truncate(ids, 3));
        assertArrayEquals(ids, TruncationSide.LEFT.truncate(ids, 9));
    }

    @Test
    void endOfTextIsTheSpecialTokenAndVocabularyHasGpt2Size() throws Exception {
        JsonNode json = new ObjectMapper().readTree(dir.resolve("tokenizer.json").toFile());
        assertEquals(50257, json.path("model").path("vocab").size());
        assertEquals(50000, json.path("model").path("merges").size());
        assertEquals(50256, json.path("model").path("vocab").path("<|endoftext|>").asInt());
        assertEquals("Ġ t", json.path("model").path("merges").get(0).asText());
        assertArrayEquals(new int[] {50256}, tokenizer.encode("<|endoftext|>"));
        JsonNode config = new ObjectMapper().readTree(dir.resolve("tokenizer_config.json").toFile());
        assertEquals("<|endoftext|>", config.path("pad_token").asText());
        assertEquals(1024, config.path("model_max_length").asInt(), "GPT-2's n_positions, as on the Hub");
        assertEquals("<|endoftext|>", new ObjectMapper().readTree(dir.resolve("special_tokens_map.json").toFile()).path("pad_token").asText());
    }
}
