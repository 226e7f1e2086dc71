package io.gpt2cls.hub;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.tensors.Safetensors;
import io.gpt2cls.tokenizer.HubStyleTokenizers;

/**
 * A tiny GPT-2 as a Hub repository holds one (2 layers, 4 heads, width 128, GPT-2's vocabulary): Hub
 * tensor names without {@code transformer.} and without a score head, the causal-mask buffer
 * {@code h.N.attn.bias}, F16 weights, a {@code GPT2LMHeadModel} config without labels or pad token, and
 * GPT-2's tokenizer.json in the Hub's spelling. Written in plain Java, no native library.
 */
public final class TinyHubGpt2 {

    static final int LAYERS = 2;
    static final int HEADS = 4;
    static final int WIDTH = 128;
    static final int POSITIONS = 256;
    static final int VOCAB = 50257;

    private TinyHubGpt2() {}

    /** Writes config.json, model.safetensors, tokenizer.json and tokenizer_config.json into {@code dir}. */
    public static Path writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        ObjectMapper json = new ObjectMapper();
        ObjectNode config = json.createObjectNode();
        config.putArray("architectures").add("GPT2LMHeadModel");
        config.put("model_type", "gpt2").put("vocab_size", VOCAB).put("n_positions", POSITIONS).put("n_ctx", POSITIONS)
                .put("n_embd", WIDTH).put("n_layer", LAYERS).put("n_head", HEADS).put("activation_function", "gelu_new")
                .put("bos_token_id", 50256).put("eos_token_id", 50256).put("layer_norm_epsilon", 1e-5)
                .put("initializer_range", 0.02);
        config.putObject("task_specific_params").putObject("text-generation").put("do_sample", true).put("max_length", 50);
        Files.writeString(dir.resolve("config.json"), json.writerWithDefaultPrettyPrinter().writeValueAsString(config));
        Random random = new Random(16);
        Map<String, Safetensors.Tensor> weights = new LinkedHashMap<>();
        weights.put("wte.weight", half(random, 0.02f, VOCAB, WIDTH));
        weights.put("wpe.weight", half(random, 0.01f, POSITIONS, WIDTH));
        for (int i = 0; i < LAYERS; i++) {
            String h = "h." + i + ".";
            weights.put(h + "ln_1.weight", constant(1f, WIDTH));
            weights.put(h + "ln_1.bias", constant(0f, WIDTH));
            weights.put(h + "attn.bias", constant(1f, 1, 1, POSITIONS, POSITIONS)); // the mask buffer old checkpoints carry
            weights.put(h + "attn.c_attn.weight", half(random, 0.02f, WIDTH, 3 * WIDTH));
            weights.put(h + "attn.c_attn.bias", constant(0f, 3 * WIDTH));
            weights.put(h + "attn.c_proj.weight", half(random, 0.02f, WIDTH, WIDTH));
            weights.put(h + "attn.c_proj.bias", constant(0f, WIDTH));
            weights.put(h + "ln_2.weight", constant(1f, WIDTH));
            weights.put(h + "ln_2.bias", constant(0f, WIDTH));
            weights.put(h + "mlp.c_fc.weight", half(random, 0.02f, WIDTH, 4 * WIDTH));
            weights.put(h + "mlp.c_fc.bias", constant(0f, 4 * WIDTH));
            weights.put(h + "mlp.c_proj.weight", half(random, 0.02f, 4 * WIDTH, WIDTH));
            weights.put(h + "mlp.c_proj.bias", constant(0f, WIDTH));
        }
        weights.put("ln_f.weight", constant(1f, WIDTH));
        weights.put("ln_f.bias", constant(0f, WIDTH));
        Safetensors.write(dir.resolve("model.safetensors"), weights, Map.of("format", "pt"));
        HubStyleTokenizers.gpt2(dir);
        Files.writeString(dir.resolve("tokenizer_config.json"), "{\"model_max_length\": " + POSITIONS + "}");
        return dir;
    }

    private static Safetensors.Tensor half(Random random, float std, long... shape) {
        return tensor(shape, () -> (float) random.nextGaussian() * std);
    }

    private static Safetensors.Tensor constant(float value, long... shape) {
        return tensor(shape, () -> value);
    }

    private interface Values {
        float next();
    }

    private static Safetensors.Tensor tensor(long[] shape, Values values) {
        long count = 1;
        for (long d : shape) {
            count *= d;
        }
        ByteBuffer data = ByteBuffer.allocate(Math.toIntExact(count * 2)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < count; i++) {
            data.putShort(toHalf(values.next()));
        }
        return new Safetensors.Tensor("F16", shape, data.flip());
    }

    /** IEEE binary16, rounding toward zero, tiny values to zero: enough for weights around 0.02. */
    private static short toHalf(float f) {
        int bits = Float.floatToIntBits(f);
        int sign = (bits >>> 16) & 0x8000;
        int exponent = ((bits >>> 23) & 0xff) - 127 + 15;
        if (f == 0f || exponent <= 0) {
            return (short) sign;
        }
        return (short) (sign | (exponent << 10) | ((bits & 0x7fffff) >>> 13));
    }
}
