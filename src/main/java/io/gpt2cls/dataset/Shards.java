package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import io.gpt2cls.tensors.Safetensors;

/**
 * The shard layout, for writer and reader alike: a safetensors file per at most {@code shardRows}
 * rows, holding {@code input_ids} (I32, every row's tokens end to end), {@code offsets} (I64, rows + 1
 * entries: row r is {@code input_ids[offsets[r] .. offsets[r+1])}) and {@code labels} (I32 label ids).
 */
final class Shards {

    static final String INPUT_IDS = "input_ids";
    static final String OFFSETS = "offsets";
    static final String LABELS = "labels";

    /** One shard's arrays, checked to describe the same rows. */
    record Shard(int[] inputIds, long[] offsets, int[] labels) {
        int rows() {
            return labels.length;
        }
    }

    private Shards() {}

    static String fileName(String split, int index) {
        return String.format("%s-%05d.safetensors", split, index);
    }

    /** Writes {@code rows} as {@code split-00000.safetensors}, ... into {@code dir}; returns the file names. */
    static List<String> write(Path dir, String split, List<Example> rows, Map<String, Integer> label2id, int shardRows)
            throws IOException {
        List<String> names = new ArrayList<>();
        for (int start = 0; start < rows.size(); start += shardRows) {
            List<Example> shardRowsList = rows.subList(start, Math.min(start + shardRows, rows.size()));
            String name = fileName(split, names.size());
            writeShard(dir.resolve(name), split, shardRowsList, label2id);
            names.add(name);
        }
        return names;
    }

    private static void writeShard(Path file, String split, List<Example> rows, Map<String, Integer> label2id)
            throws IOException {
        long[] offsets = new long[rows.size() + 1];
        int[] labels = new int[rows.size()];
        for (int r = 0; r < rows.size(); r++) {
            offsets[r + 1] = offsets[r] + rows.get(r).tokens().length;
            labels[r] = label2id.get(rows.get(r).label());
        }
        int[] inputIds = new int[Math.toIntExact(offsets[rows.size()])];
        for (int r = 0; r < rows.size(); r++) {
            int[] tokens = rows.get(r).tokens();
            System.arraycopy(tokens, 0, inputIds, (int) offsets[r], tokens.length);
        }
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>();
        tensors.put(INPUT_IDS, Safetensors.Tensor.ofInts(inputIds, inputIds.length));
        tensors.put(OFFSETS, Safetensors.Tensor.ofLongs(offsets, offsets.length));
        tensors.put(LABELS, Safetensors.Tensor.ofInts(labels, labels.length));
        Safetensors.write(file, tensors, Map.of("split", split, "rows", Integer.toString(rows.size())));
    }

    /** Reads one shard and checks that its three tensors agree and its label ids are below {@code labelCount}. */
    static Shard read(Path file, int labelCount) throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("shard " + file.getFileName() + " listed in " + Manifest.FILE
                    + " is missing from " + file.getParent() + "; prepare the dataset again");
        }
        Map<String, Safetensors.Tensor> tensors = Safetensors.read(file);
        int[] inputIds = tensor(tensors, file, INPUT_IDS, "I32").toInts();
        long[] offsets = tensor(tensors, file, OFFSETS, "I64").toLongs();
        int[] labels = tensor(tensors, file, LABELS, "I32").toInts();
        if (offsets.length != labels.length + 1) {
            throw corrupt(file, "it has " + labels.length + " labels but " + offsets.length + " offsets (expected labels + 1)");
        }
        if (offsets[0] != 0 || offsets[offsets.length - 1] != inputIds.length) {
            throw corrupt(file, "its offsets run from " + offsets[0] + " to " + offsets[offsets.length - 1]
                    + " but it holds " + inputIds.length + " input ids");
        }
        for (int r = 0; r < labels.length; r++) {
            if (offsets[r + 1] < offsets[r]) {
                throw corrupt(file, "its offsets decrease at row " + r);
            }
            if (labels[r] < 0 || labels[r] >= labelCount) {
                throw corrupt(file, "row " + r + " has label id " + labels[r] + " but there are " + labelCount + " labels");
            }
        }
        return new Shard(inputIds, offsets, labels);
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
