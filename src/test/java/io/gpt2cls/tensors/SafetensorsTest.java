package io.gpt2cls.tensors;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.gpt2cls.runtime.NativeRuntime;

class SafetensorsTest {

    @Test
    void halfToFloatCoversNormalSubnormalAndSpecialValues() {
        assertEquals(1f, Safetensors.halfToFloat((short) 0x3C00));
        assertEquals(-2f, Safetensors.halfToFloat((short) 0xC000));
        assertEquals(65504f, Safetensors.halfToFloat((short) 0x7BFF));
        assertEquals((float) Math.pow(2, -24), Safetensors.halfToFloat((short) 0x0001));
        assertEquals(Float.POSITIVE_INFINITY, Safetensors.halfToFloat((short) 0x7C00));
        assertTrue(Float.isNaN(Safetensors.halfToFloat((short) 0x7E00)));
    }

    /** Arrays written one at a time, one of them larger than a write slice, read back by the format's own rules. */
    @Test
    void arraysAreWrittenAsTheFormatSays(@TempDir Path dir) throws Exception {
        NativeRuntime.init();
        Path file = dir.resolve("model.safetensors");
        float[] large = new float[3_000_000]; // 12 MB: more than one write slice
        for (int i = 0; i < large.length; i++) {
            large[i] = i * 0.5f;
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, ai.djl.ndarray.NDArray> arrays = new LinkedHashMap<>();
            arrays.put("a.weight", manager.create(large, new Shape(1000, 3000)));
            arrays.put("b.step", manager.create(7f));
            Safetensors.writeArrays(file, arrays, Map.of("kind", "test"));
        }

        byte[] bytes = Files.readAllBytes(file);
        ByteBuffer in = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int headerLength = Math.toIntExact(in.getLong(0));
        JsonNode header = new ObjectMapper().readTree(new String(bytes, 8, headerLength, StandardCharsets.UTF_8));
        assertEquals("pt", header.at("/__metadata__/format").asText());
        assertEquals("test", header.at("/__metadata__/kind").asText());
        assertEquals("[1000,3000]", header.at("/a.weight/shape").toString());
        assertEquals("[]", header.at("/b.step/shape").toString());
        assertEquals("[0,12000000]", header.at("/a.weight/data_offsets").toString());
        assertEquals("[12000000,12000004]", header.at("/b.step/data_offsets").toString());
        assertEquals(8 + headerLength + 12_000_004, bytes.length);

        float[] read = new float[large.length];
        in.position(8 + headerLength);
        in.asFloatBuffer().get(read);
        assertArrayEquals(large, read);
        assertEquals(7f, in.getFloat(8 + headerLength + 12_000_000));
    }

    /** The streaming writer gives the same bytes as writing the tensors all at once (the form transformers read). */
    @Test
    void streamingArraysGivesTheSameBytesAsWritingTensors(@TempDir Path dir) throws Exception {
        NativeRuntime.init();
        try (NDManager manager = NDManager.newBaseManager()) {
            Map<String, ai.djl.ndarray.NDArray> arrays = new LinkedHashMap<>();
            arrays.put("h.0.attn.c_attn.weight", manager.randomNormal(new Shape(16, 48)));
            arrays.put("h.0.attn.c_attn.bias", manager.randomNormal(new Shape(48)));
            arrays.put("score.weight", manager.randomNormal(new Shape(2, 16)));
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
            arrays.forEach((name, array) -> tensors.put(name, new Safetensors.Tensor("F32", array.getShape().getShape(),
                    array.toByteBuffer().order(ByteOrder.LITTLE_ENDIAN))));
            Safetensors.writeArrays(dir.resolve("streamed.safetensors"), arrays, Map.of());
            Safetensors.write(dir.resolve("whole.safetensors"), tensors, Map.of());
        }
        assertEquals(-1, Files.mismatch(dir.resolve("streamed.safetensors"), dir.resolve("whole.safetensors")));
    }

    /**
     * Crafted headers (a model or dataset someone hands us) are a format error naming the file and what
     * is wrong, which the functions answer as {@code invalid_input}; never an arithmetic overflow, an
     * index error or a tensor that reads another tensor's bytes.
     */
    @Test
    void craftedHeadersAreFormatErrors(@TempDir Path dir) throws Exception {
        String ok = "\"dtype\":\"F32\",\"shape\":[2,2]";
        assertFormatError(dir, "{\"a\":{" + ok + ",\"data_offsets\":[0,9223372036854775807]}}", 16, "outside the data");
        assertFormatError(dir, "{\"a\":{" + ok + ",\"data_offsets\":[9223372036854775800,9223372036854775807]}}", 16, "outside the data");
        assertFormatError(dir, "{\"a\":{" + ok + ",\"data_offsets\":[4294967296,4294967312]}}", 16, "outside the data");
        assertFormatError(dir, "{\"a\":{" + ok + ",\"data_offsets\":[0,16]},\"b\":{" + ok + ",\"data_offsets\":[8,24]}}", 24,
                "overlap");
        assertFormatError(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[4294967296,4294967296,4294967296],\"data_offsets\":[0,16]}}", 16,
                "shape");
        assertFormatError(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[-2,-2],\"data_offsets\":[0,16]}}", 16, "shape");
        assertFormatError(dir, "{\"a\":{\"dtype\":\"F32\",\"shape\":[\"2\",2.5],\"data_offsets\":[0,16]}}", 16, "shape");
        assertFormatError(dir, "{\"a\":{" + ok + ",\"data_offsets\":[0,\"16\"]}}", 16, "data_offsets");
        assertFormatError(dir, "{\"a\":5}", 16, "not an object");
        assertFormatError(dir, "[1, 2]", 16, "not a JSON object");
    }

    @Test
    void aHeaderOverTheLimitIsRefusedBeforeItIsRead(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("huge-header.safetensors");
        ByteBuffer prefix = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN).putLong(Long.MAX_VALUE).putLong(0);
        Files.write(file, prefix.array());
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Safetensors.read(file));
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains("header"), e.getMessage());
    }

    /** Writes {@code header} and {@code dataBytes} zero bytes as a safetensors file and expects a format error mentioning {@code expected}. */
    private static void assertFormatError(Path dir, String header, int dataBytes, String expected) throws Exception {
        Path file = dir.resolve("crafted.safetensors");
        byte[] json = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer bytes = ByteBuffer.allocate(8 + json.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        bytes.putLong(json.length).put(json);
        Files.write(file, bytes.array());
        TensorFormatException e = assertThrows(TensorFormatException.class, () -> Safetensors.read(file), header);
        assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(expected),
                header + " -> " + e.getMessage());
    }

    /**
     * The same tensors and metadata give the same bytes whatever order the metadata map iterates in:
     * callers pass Map.of(...), whose order changes from one JVM to the next, and a shard's SHA-256 (in the
     * manifest and prepare's answer) must not (found by infra/scripts/lambda-image-check.sh).
     */
    @Test
    void metadataIsWrittenInTheSameOrderWhateverTheMapsOrder(@TempDir Path dir) throws Exception {
        Map<String, String> forward = new LinkedHashMap<>();
        forward.put("split", "train");
        forward.put("rows", "2");
        Map<String, String> backward = new LinkedHashMap<>();
        backward.put("rows", "2");
        backward.put("split", "train");
        Map<String, Safetensors.Tensor> tensors = Map.of("labels", Safetensors.Tensor.ofInts(new int[] {0, 1}, 2));
        Safetensors.write(dir.resolve("forward.safetensors"), tensors, forward);
        Safetensors.write(dir.resolve("backward.safetensors"), tensors, backward);
        assertEquals(-1, Files.mismatch(dir.resolve("forward.safetensors"), dir.resolve("backward.safetensors")));
    }
}
