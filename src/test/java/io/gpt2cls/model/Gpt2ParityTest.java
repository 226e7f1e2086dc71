package io.gpt2cls.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import io.gpt2cls.runtime.NativeRuntime;

/** The Java model against logits from an independent GPT-2 implementation (src/test/resources/gpt2-parity). */
class Gpt2ParityTest {

    static final Path FIXTURE = TestPaths.resource("gpt2-parity");
    static NDManager root;
    static Gpt2ForSequenceClassification model;
    static JsonNode inputs;
    static JsonNode expected;

    @BeforeAll
    static void load() throws Exception {
        NativeRuntime.init();
        root = NDManager.newBaseManager();
        model = ModelCheckpoint.load(FIXTURE.resolve("model"), root);
        ObjectMapper json = new ObjectMapper();
        inputs = json.readTree(FIXTURE.resolve("inputs.json").toFile());
        expected = json.readTree(FIXTURE.resolve("expected.json").toFile());
    }

    @AfterAll
    static void close() {
        model.close();
        root.close();
    }

    static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }

    static TokenBatch fixtureBatch() {
        int rows = inputs.get("input_ids").size();
        int t = inputs.get("input_ids").get(0).size();
        int[] ids = new int[rows * t];
        int[] mask = new int[rows * t];
        for (int r = 0; r < rows; r++) {
            System.arraycopy(ints(inputs.get("input_ids").get(r)), 0, ids, r * t, t);
            System.arraycopy(ints(inputs.get("attention_mask").get(r)), 0, mask, r * t, t);
        }
        return new TokenBatch(ids, mask, rows, t);
    }

    /** The real (unpadded) tokens of fixture row {@code r}. */
    static int[] realTokens(int r) {
        int[] ids = ints(inputs.get("input_ids").get(r));
        int[] mask = ints(inputs.get("attention_mask").get(r));
        return Arrays.copyOf(ids, Arrays.stream(mask).sum());
    }

    static float[][] logits(TokenBatch batch) {
        try (NDManager step = root.newSubManager()) {
            Gpt2ForSequenceClassification.Output out = model.forward(batch, step, false);
            float[] flat = out.logits().toFloatArray();
            int labels = model.config.numLabels();
            float[][] rows = new float[batch.batchSize()][];
            for (int r = 0; r < rows.length; r++) {
                rows[r] = Arrays.copyOfRange(flat, r * labels, (r + 1) * labels);
            }
            return rows;
        }
    }

    @Test
    void logitsPooledHiddenAndLossMatchReference() {
        TokenBatch batch = fixtureBatch();
        int[] labels = ints(inputs.get("labels"));
        try (NDManager step = root.newSubManager()) {
            Gpt2ForSequenceClassification.Output out = model.forward(batch, step, false);
            float[] logits = out.logits().toFloatArray();
            float[] pooled = out.pooledHidden().toFloatArray();
            int numLabels = model.config.numLabels();
            int width = model.config.n_embd;
            double maxError = 0;
            for (int r = 0; r < batch.batchSize(); r++) {
                JsonNode row = expected.get("rows").get(r);
                assertEquals(row.get("pool_index").asInt(), out.poolIndex()[r], "pool index of row " + r);
                for (int l = 0; l < numLabels; l++) {
                    maxError = Math.max(maxError, Math.abs(row.get("logits").get(l).asDouble() - logits[r * numLabels + l]));
                }
                for (int c = 0; c < width; c++) {
                    maxError = Math.max(maxError, Math.abs(row.get("pooled_hidden").get(c).asDouble() - pooled[r * width + c]));
                }
            }
            assertTrue(maxError < 1e-4, "max abs difference to the reference is " + maxError);
            float loss = Gpt2ForSequenceClassification.crossEntropy(out.logits(), labels).getFloat();
            assertEquals(expected.get("mean_loss").asDouble(), loss, 1e-4);
        }
    }

    @Test
    void pooledLogitsEqualTheFullForwardsLogits() {
        int pad = model.config.pad_token_id;
        // Where the single query of the last block must see just what the full forward's query sees:
        int[] endsInPadIds = Arrays.copyOf(realTokens(0), realTokens(0).length + 2); // real tokens after the pooled one
        endsInPadIds[endsInPadIds.length - 1] = pad;
        endsInPadIds[endsInPadIds.length - 2] = pad;
        int[] holeInMask = realTokens(3); // a key masked out before the pooled one
        int[] hole = new int[holeInMask.length];
        Arrays.fill(hole, 1);
        hole[2] = 0;
        int t = Math.max(endsInPadIds.length, holeInMask.length);
        int[] ids = new int[2 * t];
        int[] mask = new int[2 * t];
        Arrays.fill(ids, pad);
        System.arraycopy(endsInPadIds, 0, ids, 0, endsInPadIds.length);
        Arrays.fill(mask, 0, endsInPadIds.length, 1);
        System.arraycopy(holeInMask, 0, ids, t, holeInMask.length);
        System.arraycopy(hole, 0, mask, t, hole.length);
        for (TokenBatch batch : List.of(fixtureBatch(), new TokenBatch(ids, mask, 2, t))) {
            try (NDManager step = root.newSubManager()) {
                float[] full = model.forward(batch, step, false).logits().toFloatArray();
                float[] pooled = model.pooledLogits(batch, step).toFloatArray();
                assertArrayEquals(full, pooled, 1e-5f);
            }
        }
    }

    /**
     * Inference activates in place ({@code Mlp.actInPlace}): into arrays the forward made itself, never into a
     * weight. Two forwards of each kind in a row give the same logits and leave every weight bit for bit as it was.
     */
    @Test
    void inferenceForwardsLeaveTheWeightsUntouched() {
        Map<String, float[]> before = new LinkedHashMap<>();
        model.namedParameters().forEach((name, weight) -> before.put(name, weight.toFloatArray()));
        TokenBatch batch = fixtureBatch();
        try (NDManager step = root.newSubManager()) {
            float[] full = model.forward(batch, step, false).logits().toFloatArray();
            float[] pooled = model.pooledLogits(batch, step).toFloatArray();
            assertArrayEquals(full, model.forward(batch, step, false).logits().toFloatArray());
            assertArrayEquals(pooled, model.pooledLogits(batch, step).toFloatArray());
        }
        model.namedParameters().forEach((name, weight) -> assertArrayEquals(before.get(name), weight.toFloatArray(), name));
    }

    /**
     * A model packed for serving (MKL's packed products, the plain weights dropped) gives Hugging Face's logits
     * through both forwards, leaves its safetensors file as it was (the dropped pages are of a private
     * mapping), and refuses what needs the plain weights, naming why.
     */
    @Test
    void aModelPackedForServingGivesTheReferenceLogitsAndRefusesToTrainOrSave(@TempDir Path dir) throws Exception {
        assertTrue(PackedWeight.available(), "this libtorch exports MKL's packed GEMM (linux-x86_64 CPU build)");
        Path copy = dir.resolve("model");
        Files.createDirectories(copy);
        try (var files = Files.list(FIXTURE.resolve("model"))) {
            for (Path file : files.toList()) {
                Files.copy(file, copy.resolve(file.getFileName()));
            }
        }
        byte[] weightsBefore = Files.readAllBytes(copy.resolve(ModelCheckpoint.WEIGHTS_FILE));
        TokenBatch batch = fixtureBatch();
        try (NDManager packedRoot = NDManager.newBaseManager();
             Gpt2ForSequenceClassification packed = ModelCheckpoint.load(copy, packedRoot)) {
            assertTrue(packed.packForServing());
            assertTrue(packed.packedForServing());
            try (NDManager step = packedRoot.newSubManager()) {
                float[] full = packed.forward(batch, step, false).logits().toFloatArray();
                float[] pooled = packed.pooledLogits(batch, step).toFloatArray();
                int numLabels = packed.config.numLabels();
                for (int r = 0; r < batch.batchSize(); r++) {
                    for (int l = 0; l < numLabels; l++) {
                        double reference = expected.get("rows").get(r).get("logits").get(l).asDouble();
                        assertEquals(reference, full[r * numLabels + l], 1e-4, "forward, row " + r);
                        assertEquals(reference, pooled[r * numLabels + l], 1e-4, "pooled forward, row " + r);
                    }
                }
                IllegalStateException training = assertThrows(IllegalStateException.class, () -> packed.forward(batch, step, true));
                assertTrue(training.getMessage().contains("packed for serving"), training.getMessage());
            }
            assertThrows(IllegalStateException.class, packed::namedParameters);
            assertThrows(IllegalStateException.class, () -> ModelCheckpoint.save(packed, dir.resolve("saved")));
            assertThrows(IllegalStateException.class, () -> packed.castTo(ai.djl.ndarray.types.DataType.FLOAT16, packedRoot));
        }
        assertArrayEquals(weightsBefore, Files.readAllBytes(copy.resolve(ModelCheckpoint.WEIGHTS_FILE)));
    }

    /** Both forms of gelu_new (training's, and inference's in place) against its tanh formula. */
    @Test
    void geluNewEqualsTheTanhFormula() {
        try (NDManager step = root.newSubManager()) {
            Gpt2ForSequenceClassification.Constants c = new Gpt2ForSequenceClassification.Constants(step, model.config);
            NDArray x = step.linspace(-10f, 10f, 2001); // includes where tanh saturates
            float[] xs = x.toFloatArray();
            float[] formula = new float[xs.length];
            for (int i = 0; i < xs.length; i++) {
                double v = xs[i];
                formula[i] = (float) (0.5 * v * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))));
            }
            assertArrayEquals(formula, Gpt2ForSequenceClassification.Mlp.act(x, c, "gelu_new").toFloatArray(), 1e-5f);
            assertArrayEquals(formula, Gpt2ForSequenceClassification.Mlp.actInPlace(x.duplicate(), c, "gelu_new").toFloatArray(), 1e-5f);
        }
    }

    @Test
    void padTokenInsideTextIsNotMistakenForPadding() {
        // row 5 holds the pad id as a real token mid-text; pooling must still pick its last real token
        assertEquals(30, model.poolIndex(fixtureBatch())[5]);
    }

    @Test
    void rightPaddingDoesNotChangeLogits() {
        int pad = model.config.pad_token_id;
        for (int r : new int[] {0, 3, 6}) {
            int[] tokens = realTokens(r);
            float[] alone = logits(TokenBatch.rightPadded(List.of(tokens), pad))[0];
            int[] padded = Arrays.copyOf(tokens, tokens.length + 17);
            Arrays.fill(padded, tokens.length, padded.length, pad);
            int[] mask = new int[padded.length];
            Arrays.fill(mask, 0, tokens.length, 1);
            float[] withPadding = logits(new TokenBatch(padded, mask, 1, padded.length))[0];
            assertArrayEquals(alone, withPadding, 1e-5f, "row " + r);
        }
    }

    @Test
    void batchOfNEqualsNSingleRows() {
        int pad = model.config.pad_token_id;
        List<int[]> rows = new ArrayList<>();
        for (int r = 0; r < inputs.get("input_ids").size(); r++) {
            if (r != 5) { // row 5 ends in real tokens equal to the pad id only inside, but keep rows unambiguous
                rows.add(realTokens(r));
            }
        }
        float[][] batched = logits(TokenBatch.rightPadded(rows, pad));
        for (int i = 0; i < rows.size(); i++) {
            float[] single = logits(TokenBatch.rightPadded(List.of(rows.get(i)), pad))[0];
            assertArrayEquals(single, batched[i], 1e-5f, "row " + i);
        }
    }
}
