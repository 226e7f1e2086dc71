package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.gpt2cls.tensors.Safetensors;

/**
 * The shard layout, for writer and reader alike: safetensors files of at most {@code maxShardBytes}
 * each, holding {@code input_ids} (I32, every row's tokens end to end), {@code offsets} (I64, rows + 1
 * entries: row r is {@code input_ids[offsets[r] .. offsets[r+1])}) and {@code labels} (I32 label ids).
 */
final class Shards {

    static final String INPUT_IDS = "input_ids";
    static final String OFFSETS = "offsets";
    static final String LABELS = "labels";
    /** Room for the safetensors length prefix and JSON header (about 300 bytes for the largest shard). */
    private static final long HEADER_BYTES = 8 + 512;

    private Shards() {}

    static String fileName(String split, int index) {
        return String.format("%s-%05d.safetensors", split, index);
    }

    /** Size of a shard file of {@code rows} rows holding {@code tokens} tokens, header allowance included. */
    static long bytesFor(long rows, long tokens) {
        return HEADER_BYTES + 4 * tokens + 8 * (rows + 1) + 4 * rows;
    }

    /**
     * Writes a split's rows as {@code split-00000.safetensors}, ... into a directory as they come, each
     * shard at most {@code maxShardBytes} (a row larger than that gets a shard of its own). Holds one
     * shard's tensors, packed as they will be written, and reuses them for the next shard.
     */
    static final class Writer {

        private final Path dir;
        private final String split;
        private final Map<String, Integer> label2id;
        private final long maxShardBytes;
        private final List<Manifest.Shard> shards = new ArrayList<>();
        /** The shard being filled: its rows' tokens end to end (little-endian I32), offsets (rows + 1) and label ids. */
        private ByteBuffer inputIds = ByteBuffer.allocate(1 << 16).order(ByteOrder.LITTLE_ENDIAN);
        private long[] offsets = new long[1025];
        private int[] labels = new int[1024];
        private int rows;
        private int maxTokenId;

        Writer(Path dir, String split, Map<String, Integer> label2id, long maxShardBytes) {
            this.dir = dir;
            this.split = split;
            this.label2id = label2id;
            this.maxShardBytes = maxShardBytes;
        }

        void add(Example row) throws IOException {
            int[] tokens = row.tokens();
            if (rows > 0 && bytesFor(rows + 1L, offsets[rows] + tokens.length) > maxShardBytes) {
                flush();
            }
            if (inputIds.remaining() < 4 * tokens.length) {
                int needed = Math.addExact(inputIds.position(), 4 * tokens.length);
                ByteBuffer larger = ByteBuffer.allocate(Math.max(needed, (int) Math.min(Integer.MAX_VALUE - 8, 2L * inputIds.capacity())))
                        .order(ByteOrder.LITTLE_ENDIAN);
                inputIds = larger.put(inputIds.flip());
            }
            if (rows + 1 == labels.length) {
                labels = Arrays.copyOf(labels, labels.length * 2);
                offsets = Arrays.copyOf(offsets, labels.length + 1);
            }
            for (int id : tokens) {
                inputIds.putInt(id);
                maxTokenId = Math.max(maxTokenId, id);
            }
            offsets[rows + 1] = offsets[rows] + tokens.length;
            labels[rows] = label2id.get(row.label());
            rows++;
        }

        /** The shards written, in order; none for a split without rows. */
        List<Manifest.Shard> finish() throws IOException {
            if (rows > 0) {
                flush();
            }
            return List.copyOf(shards);
        }

        private void flush() throws IOException {
            String name = fileName(split, shards.size());
            Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
            tensors.put(INPUT_IDS, new Safetensors.Tensor("I32", new long[] {offsets[rows]}, inputIds.duplicate().flip()));
            tensors.put(OFFSETS, Safetensors.Tensor.ofLongs(Arrays.copyOf(offsets, rows + 1), rows + 1));
            tensors.put(LABELS, Safetensors.Tensor.ofInts(Arrays.copyOf(labels, rows), rows));
            Path file = dir.resolve(name);
            Safetensors.write(file, tensors, Map.of("split", split, "rows", Integer.toString(rows)));
            shards.add(new Manifest.Shard(name, rows, Files.size(file), sha256(file), maxTokenId));
            inputIds.clear();
            rows = 0;
            maxTokenId = 0;
        }
    }

    static String sha256(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return sha256(in);
        }
    }

    static String sha256(InputStream in) throws IOException {
        MessageDigest digest = TextKey.sha256();
        byte[] buffer = new byte[1 << 20];
        for (int n = in.read(buffer); n >= 0; n = in.read(buffer)) {
            digest.update(buffer, 0, n);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    /**
     * One shard opened for reading: checked against its manifest entry (size, SHA-256, rows) and for
     * consistent tensors, then read in place from the memory-mapped file, so a split of any size costs
     * the heap nothing; the operating system pages shards in and out as rows are read.
     */
    static final class Mapped {

        final Manifest.Shard info;
        private final IntBuffer inputIds;
        private final LongBuffer offsets;
        private final IntBuffer labels;

        private Mapped(Manifest.Shard info, IntBuffer inputIds, LongBuffer offsets, IntBuffer labels) {
            this.info = info;
            this.inputIds = inputIds;
            this.offsets = offsets;
            this.labels = labels;
        }

        int rows() {
            return labels.limit();
        }

        int length(int row) {
            return (int) (offsets.get(row + 1) - offsets.get(row));
        }

        int[] tokens(int row) {
            int[] tokens = new int[length(row)];
            inputIds.get((int) offsets.get(row), tokens);
            return tokens;
        }

        int label(int row) {
            return labels.get(row);
        }
    }

    /** Opens the shard {@code info} describes in {@code dir}, refusing one that differs from what prepare wrote. */
    static Mapped open(Path dir, Manifest.Shard info, int labelCount) throws IOException {
        Path file = dir.resolve(info.file());
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("shard " + info.file() + " listed in " + Manifest.FILE
                    + " is missing from " + dir + "; prepare the dataset again");
        }
        long bytes = Files.size(file);
        if (bytes != info.bytes()) {
            throw corrupt(file, "it has " + bytes + " bytes but " + Manifest.FILE + " says " + info.bytes()
                    + " (a partial copy?)");
        }
        if (!sha256(file).equals(info.sha256())) {
            throw corrupt(file, "its SHA-256 differs from the one in " + Manifest.FILE
                    + ", so its bytes changed after prepare wrote them");
        }
        Map<String, Safetensors.Tensor> tensors = Safetensors.read(file);
        IntBuffer inputIds = tensor(tensors, file, INPUT_IDS, "I32").data().asIntBuffer();
        LongBuffer offsets = tensor(tensors, file, OFFSETS, "I64").data().asLongBuffer();
        IntBuffer labels = tensor(tensors, file, LABELS, "I32").data().asIntBuffer();
        if (offsets.limit() != labels.limit() + 1) {
            throw corrupt(file, "it has " + labels.limit() + " labels but " + offsets.limit()
                    + " offsets (expected labels + 1)");
        }
        if (labels.limit() != info.rows()) {
            throw corrupt(file, "it holds " + labels.limit() + " rows but " + Manifest.FILE + " says " + info.rows());
        }
        if (offsets.get(0) != 0 || offsets.get(offsets.limit() - 1) != inputIds.limit()) {
            throw corrupt(file, "its offsets run from " + offsets.get(0) + " to " + offsets.get(offsets.limit() - 1)
                    + " but it holds " + inputIds.limit() + " input ids");
        }
        for (int r = 0; r < labels.limit(); r++) {
            if (offsets.get(r + 1) < offsets.get(r)) {
                throw corrupt(file, "its offsets decrease at row " + r);
            }
            if (labels.get(r) < 0 || labels.get(r) >= labelCount) {
                throw corrupt(file, "row " + r + " has label id " + labels.get(r) + " but there are " + labelCount + " labels");
            }
        }
        return new Mapped(info, inputIds, offsets, labels);
    }

    private static Safetensors.Tensor tensor(Map<String, Safetensors.Tensor> tensors, Path file, String name, String dtype) {
        Safetensors.Tensor tensor = tensors.get(name);
        if (tensor == null) {
            throw corrupt(file, "it has no '" + name + "' tensor");
        }
        if (!tensor.dtype().equals(dtype) || tensor.shape().length != 1) {
            throw corrupt(file, "tensor '" + name + "' is " + tensor.dtype() + " of rank " + tensor.shape().length
                    + "; expected a 1-d " + dtype + " tensor");
        }
        return tensor;
    }

    private static DatasetException corrupt(Path file, String problem) {
        return new DatasetException("shard " + file + " is corrupt: " + problem + "; prepare the dataset again");
    }
}
