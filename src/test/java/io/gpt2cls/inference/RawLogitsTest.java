package io.gpt2cls.inference;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.model.TestPaths;

/** The {@code logits} command's rows, where its batch has no right answer. */
class RawLogitsTest {

    /**
     * Without pad_token_id the score head reads each row's last position, which in a right-padded row of a
     * shorter text is padding: transformers refuses such a batch, and so do we, rather than answer wrongly.
     */
    @Test
    void rowsOfDifferentLengthsNeedAPadToken(@TempDir Path dir) throws Exception {
        Path model = withoutPadToken(dir);
        int[][] ids = {{121, 7, 9}, {303, 278}};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> RawLogits.compute(model, ids, null));
        assertTrue(e.getMessage().contains("Cannot handle batch sizes > 1 if no padding token is defined")
                && e.getMessage().contains("pad_token_id"), e.getMessage());

        int[][] masked = {{121, 7, 9}, {303, 278, 5}};
        int[][] mask = {{1, 1, 1}, {1, 1, 0}};
        assertThrows(IllegalArgumentException.class, () -> RawLogits.compute(model, masked, mask));
    }

    /** Rows that need no padding read their true last token, as one row at a time would. */
    @Test
    void rowsOfOneLengthNeedNoPadToken(@TempDir Path dir) throws Exception {
        Path model = withoutPadToken(dir);
        List<RawLogits.Row> both = RawLogits.compute(model, new int[][] {{121, 7, 9}, {303, 278, 5}}, null);
        List<RawLogits.Row> second = RawLogits.compute(model, new int[][] {{303, 278, 5}}, null);
        assertEquals(2, both.get(1).poolIndex());
        for (int l = 0; l < 3; l++) {
            assertEquals(second.get(0).logits()[l], both.get(1).logits()[l], 1e-5);
        }
    }

    /** The parity fixture's model with pad_token_id removed from config.json. */
    private static Path withoutPadToken(Path dir) throws Exception {
        Path fixture = TestPaths.resource("gpt2-parity").resolve("model");
        Path model = Files.createDirectory(dir.resolve("model"));
        Files.copy(fixture.resolve("model.safetensors"), model.resolve("model.safetensors"));
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = (ObjectNode) json.readTree(fixture.resolve("config.json").toFile());
        config.remove("pad_token_id");
        json.writeValue(model.resolve("config.json").toFile(), config);
        return model;
    }
}
