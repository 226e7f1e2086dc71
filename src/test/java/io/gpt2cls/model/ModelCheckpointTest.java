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
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

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

    /** The keys transformers 4.46's save_pretrained writes for a GPT2ForSequenceClassification (to_diff_dict). */
    static final Set<String> SAVE_PRETRAINED_KEYS = Set.of(
            // GPT2Config's own keys: not PretrainedConfig keys, so the diff keeps them even at their defaults
            "vocab_size", "n_positions", "n_embd", "n_layer", "n_head", "n_inner", "activation_function",
            "resid_pdrop", "embd_pdrop", "attn_pdrop", "layer_norm_epsilon", "initializer_range", "summary_type",
            "summary_use_proj", "summary_activation", "summary_proj_to_labels", "summary_first_dropout",
            "scale_attn_weights", "use_cache", "scale_attn_by_inverse_layer_idx", "reorder_and_upcast_attn",
            // PretrainedConfig keys whose values differ from PretrainedConfig()'s
            "bos_token_id", "eos_token_id", "pad_token_id", "id2label", "label2id", "problem_type", "torch_dtype",
            "architectures", "_name_or_path",
            // always written by to_dict
            "model_type", "transformers_version");

    @Test
    void configJsonHasExactlyTheKeysSavePretrainedWritesSortedAsPythonSortsThem(@TempDir Path dir) throws Exception {
        try (Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(
                ModelPreset.TINY.config(List.of("a", "b", "c")), root, 1)) {
            ModelCheckpoint.save(model, dir);
        }
        JsonNode config = new ObjectMapper().readTree(dir.resolve("config.json").toFile());
        List<String> keys = new ArrayList<>();
        config.fieldNames().forEachRemaining(keys::add);
        assertEquals(new TreeSet<>(SAVE_PRETRAINED_KEYS), new TreeSet<>(keys));
        assertEquals(keys.stream().sorted().toList(), keys, "json.dumps(sort_keys=True) order");
        assertEquals(Gpt2Config.TRANSFORMERS_VERSION, config.path("transformers_version").asText());
        assertTrue(config.path("n_inner").isNull() && config.path("summary_activation").isNull());
        assertEquals("cls_index", config.path("summary_type").asText());
        assertEquals(0.1, config.path("summary_first_dropout").asDouble());
        assertTrue(config.path("summary_use_proj").asBoolean() && config.path("summary_proj_to_labels").asBoolean());
        assertTrue(config.path("scale_attn_weights").asBoolean() && config.path("use_cache").asBoolean());
        assertFalse(config.path("scale_attn_by_inverse_layer_idx").asBoolean() || config.path("reorder_and_upcast_attn").asBoolean());
        assertEquals(50256, config.path("pad_token_id").asInt(), "a preset pads with <|endoftext|>");
    }

    @Test
    void aBaseSavedAsLmHeadModelIsSavedAsTheSequenceClassifier(@TempDir Path dir) throws Exception {
        Path base = dir.resolve("base");
        Files.createDirectories(base);
        Files.copy(FIXTURE_MODEL.resolve("model.safetensors"), base.resolve("model.safetensors"));
        Files.writeString(base.resolve("config.json"), Files.readString(FIXTURE_MODEL.resolve("config.json"))
                .replace("\"GPT2ForSequenceClassification\"", "\"GPT2LMHeadModel\""));
        try (Gpt2ForSequenceClassification model = ModelCheckpoint.load(base, root)) {
            ModelCheckpoint.save(model, dir.resolve("saved"));
        }
        JsonNode config = new ObjectMapper().readTree(dir.resolve("saved/config.json").toFile());
        assertEquals(List.of("GPT2ForSequenceClassification"),
                List.of(new ObjectMapper().treeToValue(config.path("architectures"), String[].class)));
        assertEquals(64, config.path("n_ctx").asInt(), "keys we do not use are kept");
    }

    /** Reads model.safetensors with nothing but NIO and JSON, as the format's specification describes it. */
    static Map<String, float[]> readSafetensorsIndependently(Path file, Map<String, String> metadata) throws Exception {
        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer buffer = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(buffer.getLong(0));
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, headerLength, java.nio.charset.StandardCharsets.UTF_8));
        Map<String, float[]> tensors = new LinkedHashMap<>();
        long expectedStart = 0;
        for (Iterator<Map.Entry<String, JsonNode>> it = header.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> entry = it.next();
            if (entry.getKey().equals("__metadata__")) {
                entry.getValue().fields().forEachRemaining(m -> metadata.put(m.getKey(), m.getValue().asText()));
                continue;
            }
            assertEquals("F32", entry.getValue().path("dtype").asText(), entry.getKey());
            long start = entry.getValue().path("data_offsets").get(0).asLong();
            long end = entry.getValue().path("data_offsets").get(1).asLong();
            assertEquals(expectedStart, start, "tensors are stored back to back: " + entry.getKey());
            long elements = 1;
            for (JsonNode d : entry.getValue().path("shape")) {
                elements *= d.asLong();
            }
            assertEquals(elements * 4, end - start, entry.getKey());
            float[] values = new float[Math.toIntExact(elements)];
            buffer.position(8 + headerLength + Math.toIntExact(start));
            buffer.slice().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            tensors.put(entry.getKey(), values);
            expectedStart = end;
        }
        assertEquals(bytes.length, 8 + headerLength + expectedStart, "no bytes after the last tensor");
        return tensors;
    }

    @Test
    void savedWeightsReadBackWithAnIndependentReaderAreTheModelsParametersInModuleOrder(@TempDir Path dir) throws Exception {
        Map<String, String> metadata = new LinkedHashMap<>();
        try (Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(
                ModelPreset.TINY.config(List.of("a", "b")), root, 5)) {
            ModelCheckpoint.save(model, dir);
            Map<String, float[]> read = readSafetensorsIndependently(dir.resolve("model.safetensors"), metadata);
            List<String> moduleOrder = new ArrayList<>(List.of("transformer.wte.weight", "transformer.wpe.weight"));
            for (int layer = 0; layer < 2; layer++) {
                for (String weight : List.of("ln_1.weight", "ln_1.bias", "attn.c_attn.weight", "attn.c_attn.bias",
                        "attn.c_proj.weight", "attn.c_proj.bias", "ln_2.weight", "ln_2.bias", "mlp.c_fc.weight",
                        "mlp.c_fc.bias", "mlp.c_proj.weight", "mlp.c_proj.bias")) {
                    moduleOrder.add("transformer.h." + layer + "." + weight);
                }
            }
            moduleOrder.addAll(List.of("transformer.ln_f.weight", "transformer.ln_f.bias", "score.weight"));
            assertEquals(moduleOrder, new ArrayList<>(model.namedParameters().keySet()));
            assertEquals(moduleOrder, new ArrayList<>(read.keySet()));
            for (String name : moduleOrder) {
                assertArrayEquals(model.namedParameters().get(name).toFloatArray(), read.get(name), 0f, name);
            }
        }
        assertEquals("pt", metadata.get("format"), "transformers refuses safetensors files without format pt");
    }

    /**
     * Rewrites the fixture with every layer's query projection (the first n_embd columns of c_attn)
     * multiplied by {@code factor(layer)}, and with {@code configEdit} applied to config.json.
     */
    static void scaleQueries(Path to, java.util.function.IntToDoubleFunction factor,
                             java.util.function.UnaryOperator<String> configEdit) throws Exception {
        Files.createDirectories(to);
        Files.writeString(to.resolve("config.json"), configEdit.apply(Files.readString(FIXTURE_MODEL.resolve("config.json"))));
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        Safetensors.read(FIXTURE_MODEL.resolve("model.safetensors")).forEach((name, t) -> {
            java.util.regex.Matcher m = java.util.regex.Pattern.compile("transformer\\.h\\.(\\d+)\\.attn\\.c_attn\\.(weight|bias)").matcher(name);
            if (!m.matches()) {
                tensors.put(name, t);
                return;
            }
            float f = (float) factor.applyAsDouble(Integer.parseInt(m.group(1)));
            int columns = Math.toIntExact(t.shape()[t.shape().length - 1]); // 3 * n_embd; queries come first
            float[] values = new float[t.data().remaining() / 4];
            t.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(values);
            for (int i = 0; i < values.length; i++) {
                if (i % columns < columns / 3) {
                    values[i] *= f;
                }
            }
            ByteBuffer out = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            out.asFloatBuffer().put(values);
            tensors.put(name, new Safetensors.Tensor("F32", t.shape(), out));
        });
        Safetensors.write(to.resolve("model.safetensors"), tensors, Map.of());
    }

    @Test
    void scaleAttnWeightsFalseSkipsTheDivisionBySqrtHeadSize(@TempDir Path dir) throws Exception {
        double sqrtHeadSize = Math.sqrt(32 / 4);
        scaleQueries(dir, layer -> 1 / sqrtHeadSize, c -> c.replace("\"scale_attn_weights\": true", "\"scale_attn_weights\": false"));
        assertArrayEquals(logits(FIXTURE_MODEL), logits(dir), 1e-5f);
    }

    @Test
    void scaleAttnByInverseLayerIdxDividesLayerIScoresByIPlusOne(@TempDir Path dir) throws Exception {
        scaleQueries(dir, layer -> layer + 1, c -> c.replace("\"scale_attn_by_inverse_layer_idx\": false",
                "\"scale_attn_by_inverse_layer_idx\": true"));
        assertArrayEquals(logits(FIXTURE_MODEL), logits(dir), 1e-5f);
    }

    @Test
    void problemTypesOtherThanSingleLabelAreRefused(@TempDir Path dir) throws Exception {
        Files.copy(FIXTURE_MODEL.resolve("model.safetensors"), dir.resolve("model.safetensors"));
        Files.writeString(dir.resolve("config.json"), Files.readString(FIXTURE_MODEL.resolve("config.json"))
                .replace("single_label_classification", "multi_label_classification"));
        ModelFormatException e = assertThrows(ModelFormatException.class, () -> ModelCheckpoint.load(dir, root));
        assertTrue(e.getMessage().contains("multi_label_classification"), e.getMessage());
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
