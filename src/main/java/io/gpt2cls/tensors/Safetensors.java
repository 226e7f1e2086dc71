package io.gpt2cls.tensors;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

/**
 * The safetensors format: an 8-byte little-endian header length, a JSON header naming each
 * tensor's dtype, shape and byte range, then the raw little-endian data.
 *
 * <p>Reading memory-maps the file and hands out slices, so F32 weights become NDArrays without a
 * copy. Half-precision tensors are widened to F32 in Java (DJL 0.36 aborts the JVM on BF16
 * arrays). The same reader and writer also serve the dataset shards (I32/I64 tensors).
 */
public final class Safetensors {

    private static final int WRITE_SLICE = 8 << 20;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final long MAX_HEADER_BYTES = 100L * 1024 * 1024;

    private Safetensors() {}

    /** One tensor's raw bytes (little-endian), dtype name as safetensors spells it, and shape. */
    public record Tensor(String dtype, long[] shape, ByteBuffer data) {
        public static Tensor ofInts(int[] values, long... shape) {
            ByteBuffer buf = ByteBuffer.allocate(values.length * 4).order(ByteOrder.LITTLE_ENDIAN);
            buf.asIntBuffer().put(values);
            return new Tensor("I32", shape, buf);
        }

        public static Tensor ofLongs(long[] values, long... shape) {
            ByteBuffer buf = ByteBuffer.allocate(values.length * 8).order(ByteOrder.LITTLE_ENDIAN);
            buf.asLongBuffer().put(values);
            return new Tensor("I64", shape, buf);
        }

        public int[] toInts() {
            requireDtype("I32");
            int[] out = new int[data.remaining() / 4];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asIntBuffer().get(out);
            return out;
        }

        public long[] toLongs() {
            requireDtype("I64");
            long[] out = new long[data.remaining() / 8];
            data.duplicate().order(ByteOrder.LITTLE_ENDIAN).asLongBuffer().get(out);
            return out;
        }

        private void requireDtype(String expected) {
            if (!dtype.equals(expected)) {
                throw new TensorFormatException("tensor has dtype " + dtype + ", expected " + expected);
            }
        }

        long elementCount() {
            return Arrays.stream(shape).reduce(1, Math::multiplyExact);
        }
    }

    /**
     * Maps {@code file} and returns its tensors in header order, each a zero-copy slice of the
     * mapping. The mapping is private (copy-on-write): training may update the weights in place
     * without touching the file.
     */
    public static Map<String, Tensor> read(Path file) throws IOException {
        ByteBuffer mapped = map(file).order(ByteOrder.LITTLE_ENDIAN);
        if (mapped.capacity() < 8) {
            throw new TensorFormatException(file + " is not a safetensors file: it is only " + mapped.capacity() + " bytes");
        }
        long headerLength = mapped.getLong(0);
        if (headerLength <= 0 || headerLength > MAX_HEADER_BYTES) {
            throw new TensorFormatException(file + " is not a safetensors file: its header length " + headerLength
                    + " is not between 1 and " + MAX_HEADER_BYTES + " bytes");
        }
        if (8 + headerLength > mapped.capacity()) {
            throw new TensorFormatException(file + " is not a safetensors file: header length " + headerLength
                    + " does not fit a file of " + mapped.capacity() + " bytes");
        }
        byte[] headerBytes = new byte[(int) headerLength];
        mapped.get(8, headerBytes);
        JsonNode header;
        try {
            header = JSON.readTree(headerBytes);
        } catch (IOException e) {
            throw new TensorFormatException(file + " has a corrupt safetensors header: " + e.getMessage());
        }
        if (header == null || !header.isObject()) {
            throw new TensorFormatException(file + " has a corrupt safetensors header: it is not a JSON object");
        }
        int dataStart = 8 + (int) headerLength;
        long dataBytes = mapped.capacity() - dataStart;
        Map<String, Tensor> tensors = new LinkedHashMap<>();
        TreeMap<Long, String> byBegin = new TreeMap<>();
        Iterator<Map.Entry<String, JsonNode>> fields = header.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            if (field.getKey().equals("__metadata__")) {
                continue;
            }
            String where = file + ": tensor '" + field.getKey() + "'";
            JsonNode info = field.getValue();
            if (!info.isObject()) {
                throw new TensorFormatException(where + " is not an object with dtype, shape and data_offsets");
            }
            String dtype = info.path("dtype").asText();
            long[] shape = naturals(info.path("shape"), -1, where + " has an invalid shape " + info.path("shape"));
            long[] offsets = naturals(info.path("data_offsets"), 2, where + " has invalid data_offsets " + info.path("data_offsets")
                    + "; they must be two non-negative integers [begin, end]");
            long begin = offsets[0];
            long end = offsets[1];
            if (end < begin || end > dataBytes) {
                throw new TensorFormatException(where + " has data_offsets [" + begin + ", " + end
                        + "] outside the data (" + dataBytes + " bytes after the header); the file is truncated or corrupt");
            }
            long expectedBytes;
            try {
                expectedBytes = Math.multiplyExact(Arrays.stream(shape).reduce(1, Math::multiplyExact),
                        (long) bytesPerElement(dtype, file, field.getKey()));
            } catch (ArithmeticException e) {
                throw new TensorFormatException(where + " has a shape " + Arrays.toString(shape) + " too large for any file");
            }
            if (expectedBytes != end - begin) {
                throw new TensorFormatException(where + " of shape " + Arrays.toString(shape) + " and dtype " + dtype
                        + " needs " + expectedBytes + " bytes, but its data_offsets span " + (end - begin));
            }
            requireNoOverlap(byBegin, begin, end, field.getKey(), tensors, file);
            // DJL's JNI ignores a buffer's position, so each tensor must be its own slice.
            ByteBuffer slice = mapped.slice(dataStart + (int) begin, (int) (end - begin)).order(ByteOrder.LITTLE_ENDIAN);
            tensors.put(field.getKey(), new Tensor(dtype, shape, slice));
        }
        return tensors;
    }

    /** A JSON array of non-negative integers ({@code size} of them, or any number when negative), else {@code message}. */
    private static long[] naturals(JsonNode array, int size, String message) {
        if (!array.isArray() || (size >= 0 && array.size() != size)) {
            throw new TensorFormatException(message);
        }
        long[] values = new long[array.size()];
        for (int i = 0; i < values.length; i++) {
            JsonNode value = array.get(i);
            if (!value.isIntegralNumber() || !value.canConvertToLong() || value.asLong() < 0) {
                throw new TensorFormatException(message);
            }
            values[i] = value.asLong();
        }
        return values;
    }

    /** Two tensors never share bytes: one written in place (training updates weights in place) would change the other. */
    private static void requireNoOverlap(TreeMap<Long, String> byBegin, long begin, long end, String name,
                                         Map<String, Tensor> tensors, Path file) {
        if (end > begin) {
            Map.Entry<Long, String> before = byBegin.floorEntry(begin);
            Map.Entry<Long, String> after = byBegin.ceilingEntry(begin);
            for (Map.Entry<Long, String> other : Arrays.asList(before, after)) {
                if (other == null) {
                    continue;
                }
                long otherBegin = other.getKey();
                long otherEnd = otherBegin + tensors.get(other.getValue()).data().capacity();
                if (begin < otherEnd && otherBegin < end) {
                    throw new TensorFormatException(file + ": tensors '" + other.getValue() + "' and '" + name
                            + "' overlap (data_offsets [" + otherBegin + ", " + otherEnd + "] and [" + begin + ", " + end
                            + "]); the file is corrupt");
                }
            }
            byBegin.put(begin, name);
        }
    }

    /**
     * A private (copy-on-write) mapping needs a channel open for writing. A read-only file (a
     * shared fixture, a read-only volume) is copied into memory instead, because tensors are
     * updated in place during training and a read-only mapping would crash the JVM there.
     */
    private static ByteBuffer map(Path file) throws IOException {
        if (!Files.exists(file)) {
            throw new TensorFormatException("no such file: " + file);
        }
        if (Files.size(file) > Integer.MAX_VALUE) {
            throw new TensorFormatException(file + " is " + Files.size(file) + " bytes; safetensors files over 2 GiB are not"
                    + " supported (a file is mapped as one buffer)");
        }
        if (Files.isWritable(file)) {
            try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
                return channel.map(FileChannel.MapMode.PRIVATE, 0, channel.size());
            }
        }
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.READ)) {
            ByteBuffer copy = ByteBuffer.allocateDirect(Math.toIntExact(channel.size()));
            while (copy.hasRemaining() && channel.read(copy) >= 0) {
                // keep reading until the whole file is in memory
            }
            return copy.flip();
        }
    }

    /** Writes tensors in the given order, with optional string metadata ({@code format: pt} is always set). */
    public static void write(Path file, Map<String, Tensor> tensors, Map<String, String> metadata) throws IOException {
        Map<String, Pending> pending = new LinkedHashMap<>();
        tensors.forEach((name, tensor) -> pending.put(name,
                new Pending(tensor.dtype(), tensor.shape(), tensor.data().remaining(), () -> tensor.data().duplicate())));
        writePending(file, pending, metadata);
    }

    /**
     * Writes F32 arrays in the given order, copying each out of libtorch only when its turn comes: a
     * checkpoint (GPT-2 small's weights and AdamW moments: 1.5 GB) never sits whole in the Java heap.
     */
    public static void writeArrays(Path file, Map<String, NDArray> arrays, Map<String, String> metadata) throws IOException {
        Map<String, Pending> pending = new LinkedHashMap<>();
        arrays.forEach((name, array) -> {
            if (array.getDataType() != DataType.FLOAT32) {
                throw new IllegalArgumentException("only FLOAT32 weights are written, got " + array.getDataType() + " for " + name);
            }
            pending.put(name, new Pending("F32", array.getShape().getShape(), array.size() * 4, array::toByteBuffer));
        });
        writePending(file, pending, metadata);
    }

    /** A tensor to write: its header entry now, its bytes when their turn comes. */
    private record Pending(String dtype, long[] shape, long bytes, Supplier<ByteBuffer> data) {}

    private static void writePending(Path file, Map<String, Pending> tensors, Map<String, String> metadata) throws IOException {
        ObjectNode header = JSON.createObjectNode();
        ObjectNode meta = header.putObject("__metadata__");
        meta.put("format", "pt");
        // sorted: callers pass Map.of(...), whose order changes from one JVM to the next, and equal
        // contents must give equal bytes (a shard's SHA-256 is recorded and compared)
        new TreeMap<>(metadata).forEach(meta::put);
        long offset = 0;
        for (Map.Entry<String, Pending> entry : tensors.entrySet()) {
            Pending tensor = entry.getValue();
            ObjectNode info = header.putObject(entry.getKey());
            info.put("dtype", tensor.dtype());
            var shape = info.putArray("shape");
            for (long d : tensor.shape()) {
                shape.add(d);
            }
            info.putArray("data_offsets").add(offset).add(offset + tensor.bytes());
            offset += tensor.bytes();
        }
        byte[] headerJson = JSON.writeValueAsBytes(header);
        int padded = (headerJson.length + 7) / 8 * 8; // the format pads the header with spaces to 8 bytes
        ByteBuffer prefix = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
        prefix.putLong(padded).put(headerJson);
        while (prefix.hasRemaining()) {
            prefix.put((byte) ' ');
        }
        prefix.flip();
        try (FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                StandardOpenOption.TRUNCATE_EXISTING)) {
            writeFully(out, prefix);
            for (Map.Entry<String, Pending> entry : tensors.entrySet()) {
                ByteBuffer data = entry.getValue().data().get();
                if (data.remaining() != entry.getValue().bytes()) {
                    throw new IllegalStateException(entry.getKey() + ": " + data.remaining() + " bytes, the header says "
                            + entry.getValue().bytes());
                }
                writeFully(out, data);
            }
        }
    }

    /**
     * In slices of at most {@link #WRITE_SLICE} bytes: the JDK copies a heap buffer through a direct
     * buffer as large as one write and keeps that buffer for the thread, so one 154 MB write (GPT-2
     * small's wte) would hold 154 MB of native memory for good.
     */
    private static void writeFully(FileChannel out, ByteBuffer buffer) throws IOException {
        while (buffer.hasRemaining()) {
            ByteBuffer slice = buffer.slice();
            slice.limit(Math.min(slice.remaining(), WRITE_SLICE));
            while (slice.hasRemaining()) {
                out.write(slice);
            }
            buffer.position(buffer.position() + slice.position());
        }
    }

    /** Creates an F32 NDArray from a tensor: zero-copy for F32, widened for F16, BF16 and F64. */
    public static NDArray toNDArray(Tensor tensor, NDManager manager, String name) {
        Shape shape = new Shape(tensor.shape());
        int n = Math.toIntExact(tensor.elementCount());
        ByteBuffer src = tensor.data().duplicate().order(ByteOrder.LITTLE_ENDIAN);
        switch (tensor.dtype()) {
            case "F32":
                return manager.create(src, shape, DataType.FLOAT32);
            case "F16": {
                ByteBuffer out = allocateFloats(n);
                for (int i = 0; i < n; i++) {
                    out.putFloat(i * 4, halfToFloat(src.getShort(i * 2)));
                }
                return manager.create(out, shape, DataType.FLOAT32);
            }
            case "BF16": {
                ByteBuffer out = allocateFloats(n);
                for (int i = 0; i < n; i++) {
                    out.putFloat(i * 4, Float.intBitsToFloat((src.getShort(i * 2) & 0xffff) << 16));
                }
                return manager.create(out, shape, DataType.FLOAT32);
            }
            case "F64": {
                ByteBuffer out = allocateFloats(n);
                for (int i = 0; i < n; i++) {
                    out.putFloat(i * 4, (float) src.getDouble(i * 8));
                }
                return manager.create(out, shape, DataType.FLOAT32);
            }
            default:
                throw new TensorFormatException("tensor '" + name + "' has dtype " + tensor.dtype()
                        + "; model weights must be F32, F16, BF16 or F64");
        }
    }

    private static ByteBuffer allocateFloats(int n) {
        return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder());
    }

    private static int bytesPerElement(String dtype, Path file, String name) {
        switch (dtype) {
            case "F64": case "I64": case "U64": return 8;
            case "F32": case "I32": case "U32": return 4;
            case "F16": case "BF16": case "I16": case "U16": return 2;
            case "I8": case "U8": case "BOOL": case "F8_E4M3": case "F8_E5M2": return 1;
            default:
                throw new TensorFormatException(file + ": tensor '" + name + "' has unknown dtype '" + dtype + "'");
        }
    }

    /** IEEE 754 binary16 to binary32 (Java 17 has no Float.float16ToFloat). */
    static float halfToFloat(short half) {
        int bits = half & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exponent = (bits >>> 10) & 0x1f;
        int mantissa = bits & 0x3ff;
        if (exponent == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mantissa << 13));
        }
        if (exponent == 0) {
            if (mantissa == 0) {
                return Float.intBitsToFloat(sign);
            }
            float value = mantissa / 1024f / 16384f; // subnormal: mantissa * 2^-24
            return sign == 0 ? value : -value;
        }
        return Float.intBitsToFloat(sign | ((exponent + 112) << 23) | (mantissa << 13));
    }
}
