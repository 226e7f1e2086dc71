package io.gpt2cls.tokenizer;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class TextTokenizerTest {

    @Test
    void theDigestIsOfTheFileAsLoadedEvenWhenItIsAskedForAfterTheFileChanged(@TempDir Path dir) throws Exception {
        Path file = Files.copy(Gpt2TokenizerBuilder.cached(), dir.resolve(TextTokenizer.TOKENIZER_FILE));
        String loadedBytes = TextTokenizer.sha256(Files.readAllBytes(file));
        try (TextTokenizer tokenizer = TextTokenizer.load(dir)) {
            Files.writeString(file, "{}"); // replaced after the load, before anyone asked for the digest

            assertEquals(loadedBytes, tokenizer.sha256());
            assertEquals(loadedBytes, tokenizer.sha256(), "asked again, the same digest");
        }
    }
}
