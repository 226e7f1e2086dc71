package io.gpt2cls.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.tensors.Safetensors;
import io.gpt2cls.tensors.TensorFormatException;

class ModelCheckpointTest {

    static final Path FIXTURE_MODEL = TestPaths.resource("gpt2-parity/model");
    static NDManager root;

    @BeforeAll
    static void start() {
        NativeRuntime.init();
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    static float[] logits(Path dir) throws Exception {
        TokenBatch batch = TokenBatch.rightPadded(List.of(new int[] {5, 17, 300, 2}, new int[] {9, 9}), 511);
        try (Gpt2ForSequenceClassification model = ModelCheckpoint.load(dir, root); NDManager step = root.newSubManager()) {
            return model.forward(batch, step, false).logits().toFloatArray();
        }
    }

    /** Rewrites the fixture's weights under other names/dtypes. */
    static void rewrite(Path from, Path to, java.util.function.BiConsumer<String, Safetensors.Tensor> sink) throws Exception {
        Files.createDirectories(to);
        Files.copy(from.resolve("config.json"), to.resolve("config.json"));
        Safetensors.read(from.resolve("model.safetensors")).forEach(sink);
    }

    @Test
    void savesSavePretrainedNamesAndReloadsTheSameModel(@TempDir Path dir) throws Exception {
        try (Gpt2ForSequenceClassification model = ModelCheckpoint.load(FIXTURE_MODEL, root)) {
            ModelCheckpoint.save(model, dir);
        }
        Map<String, Safetensors.Tensor> saved = Safetensors.read(dir.resolve("model.safetensors"));
        assertTrue(saved.containsKey("transformer.h.1.attn.c_attn.weight"));
        assertTrue(saved.containsKey("transformer.wte.weight"));
        assertTrue(saved.containsKey("score.weight"));
        assertEquals(2 + 12 * 2 + 2 + 1, saved.size()); // wte, wpe, 12 per block x 2, ln_f x2, score
        assertArrayEquals(logits(FIXTURE_MODEL), logits(dir), 0f);

        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        assertEquals("gpt2", config.path("model_type").asText());
        assertEquals("GPT2ForSequenceClassification", config.path("architectures").get(0).asText());
        assertEquals("neutral", config.path("id2label").path("1").asText());
        assertEquals(2, config.path("label2id").path("positive").asInt());
        assertEquals(511, config.path("pad_token_id").asInt());
        assertEquals("single_label_classification", config.path("problem_type").asText());
        assertEquals("ref-tiny-random-gpt2", config.path("_name_or_path").asText(), "unknown keys are kept");
    }

    @Test
    void loadsHubNamesIgnoresBuffersAndLmHead(@TempDir Path dir) throws Exception {
        Map<String, Safetensors.Tensor> hub = new LinkedHashMap<>();
        rewrite(FIXTURE_MODEL, dir, (name, t) -> hub.put(name.replace("transformer.", ""), t));
        hub.put("h.0.attn.bias", Safetensors.Tensor.ofInts(new int[] {1}, 1));
        hub.put("lm_head.weight", hub.get("wte.weight"));
        Safetensors.write(dir.resolve("model.safetensors"), hub, Map.of());
        assertArrayEquals(logits(FIXTURE_MODEL), logits(dir), 0f);
    }

    @Test
    void missingScoreHeadIsInitialisedAndTheTrunkStillLoads(@TempDir Path dir) throws Exception {
        Map<String, Safetensors.Tensor> trunk = new LinkedHashMap<>();
        rewrite(FIXTURE_MODEL, dir, (name, t) -> {
            if (!name.equals("score.weight")) {
                trunk.put(name, t);
            }
        });
        Safetensors.write(dir.resolve("model.safetensors"), trunk, Map.of());
        float[] logits = logits(dir);
        assertEquals(6, logits.length);
        assertFalse(java.util.Arrays.equals(logits(FIXTURE_MODEL), logits), "a new head, not the old one");
    }

    @Test
    void halfPrecisionWeightsAreWidenedToFloat32(@TempDir Path dir) throws Exception {
        Map<String, Safetensors.Tensor> bf16 = new LinkedHashMap<>();
        rewrite(FIXTURE_MODEL, dir, (name, t) -> {
            ByteBuffer src = t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
            ByteBuffer out = ByteBuffer.allocate(src.remaining() / 2).order(ByteOrder.LITTLE_ENDIAN);
            while (src.hasRemaining()) {
                out.putShort((short) (Float.floatToIntBits(src.getFloat()) >>> 16)); // truncate to bfloat16
            }
            bf16.put(name, new Safetensors.Tensor("BF16", t.shape(), out.flip()));
        });
        Safetensors.write(dir.resolve("model.safetensors"), bf16, Map.of());
        float[] exact = logits(FIXTURE_MODEL);
        float[] widened = logits(dir);
        assertArrayEquals(exact, widened, 0.05f); // bfloat16 keeps ~3 significant digits
        try (NDManager m = root.newSubManager()) {
            Safetensors.Tensor one = new Safetensors.Tensor("BF16", new long[] {2},
                    ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putShort((short) 0x3F80).putShort((short) 0xC040).flip());
            assertArrayEquals(new float[] {1f, -3f}, Safetensors.toNDArray(one, m, "x").toFloatArray());
        }
    }

    @Test
    void pickleCheckpointsAreRefusedWithAConversionHint(@TempDir Path dir) throws Exception {
        Files.copy(FIXTURE_MODEL.resolve("config.json"), dir.resolve("config.json"));
        Files.write(dir.resolve("pytorch_model.bin"), new byte[] {(byte) 0x80, 2});
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelCheckpoint.load(dir, root));
        assertTrue(e.getMessage().contains("pickle") && e.getMessage().contains("safe_serialization=True"), e.getMessage());
    }

    @Test
    void configAndWeightsThatDisagreeNameTheTensor(@TempDir Path dir) throws Exception {
        Files.copy(FIXTURE_MODEL.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"),
                Files.readString(FIXTURE_MODEL.resolve("config.json")).replace("\"n_embd\": 32", "\"n_embd\": 64"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelCheckpoint.load(dir, root));
        assertTrue(e.getMessage().contains("wte.weight") && e.getMessage().contains("do not match"), e.getMessage());
    }

    @Test
    void truncatedSafetensorsFileIsAClearError(@TempDir Path dir) throws Exception {
        Files.copy(FIXTURE_MODEL.resolve("config.json"), dir.resolve("config.json"));
        byte[] bytes = Files.readAllBytes(FIXTURE_MODEL.resolve("model.safetensors"));
        Files.write(dir.resolve("model.safetensors"), java.util.Arrays.copyOf(bytes, bytes.length / 2));
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> ModelCheckpoint.load(dir, root));
        assertTrue(e.getMessage().contains("truncated or corrupt"), e.getMessage());
    }

    @Test
    void freshPresetModelsFollowHuggingFaceInitialisation() {
        Gpt2Config config = ModelPreset.TINY.config(List.of("a", "b", "c"));
        try (Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(config, root, 3)) {
            Map<String, ai.djl.ndarray.NDArray> p = model.namedParameters();
            assertEquals(1f, p.get("transformer.h.0.ln_1.weight").toFloatArray()[5]);
            assertEquals(0f, p.get("transformer.h.0.attn.c_attn.bias").toFloatArray()[7]);
            assertEquals(0.02, std(p.get("transformer.wte.weight").toFloatArray()), 0.001);
            assertEquals(0.02 / Math.sqrt(2 * 2), std(p.get("transformer.h.1.mlp.c_proj.weight").toFloatArray()), 0.001);
            assertEquals(List.of(3L, 128L), List.of(p.get("score.weight").getShape().get(0), p.get("score.weight").getShape().get(1)));
            assertEquals(50257, config.vocab_size);
        }
    }

    static double std(float[] values) {
        double sum = 0;
        double sq = 0;
        for (float v : values) {
            sum += v;
            sq += v * v;
        }
        double mean = sum / values.length;
        return Math.sqrt(sq / values.length - mean * mean);
    }
}
