package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
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

    /** Writes {@code rows} as {@code split-00000.safetensors}, ... into {@code dir}, each at most {@code maxShardBytes}. */
    static List<Manifest.Shard> write(Path dir, String split, List<Example> rows, Map<String, Integer> label2id,
            long maxShardBytes) throws IOException {
        List<Manifest.Shard> shards = new ArrayList<>();
        int start = 0;
        while (start < rows.size()) {
            int end = start + 1;
            long tokens = rows.get(start).tokens().length;
            while (end < rows.size() && bytesFor(end + 1 - start, tokens + rows.get(end).tokens().length) <= maxShardBytes) {
                tokens += rows.get(end).tokens().length;
                end++;
            }
            shards.add(writeShard(dir, fileName(split, shards.size()), split, rows.subList(start, end), label2id));
            start = end;
        }
        return shards;
    }

    private static Manifest.Shard writeShard(Path dir, String name, String split, List<Example> rows,
            Map<String, Integer> label2id) throws IOException {
        long[] offsets = new long[rows.size() + 1];
        int[] labels = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            offsets[r + 1] = offsets[r] + rows.get(r).tokens().length;
            labels[r] = label2id.get(rows.get(r).label());
        }
        int[] inputIds = new int[Math.toIntExact(offsets[rows.size()])];
        int maxTokenId = 0;
        for (int r = 0; r < rows.size(); r++) {
            int[] tokens = rows.get(r).tokens();
            System.arraycopy(tokens, 0, inputIds, (int) offsets[r], tokens.length);
            for (int id : tokens) {
                maxTokenId = Math.max(maxTokenId, id);
            }
        }
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put(INPUT_IDS, Safetensors.Tensor.ofInts(inputIds, inputIds.length));
        tensors.put(OFFSETS, Safetensors.Tensor.ofLongs(offsets, offsets.length));
        tensors.put(LABELS, Safetensors.Tensor.ofInts(labels, labels.length));
        Path file = dir.resolve(name);
        Safetensors.write(file, tensors, Map.of("split", split, "rows", Integer.toString(rows.size())));
        return new Manifest.Shard(name, rows.size(), Files.size(file), sha256(file), maxTokenId);
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
