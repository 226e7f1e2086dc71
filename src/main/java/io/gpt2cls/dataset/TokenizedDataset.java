package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A prepared dataset read back for training: the manifest and each split's rows, read in place from
 * the shards the manifest lists. Opening checks every shard against the manifest (size, SHA-256, row
 * count, consistent tensors); rows are then read from the memory-mapped files on demand, so a dataset
 * larger than the heap trains as well as a small one.
 */
public final class TokenizedDataset {

    private final Path dir;
    private final Manifest manifest;
    private final Map<String, Split> splits;

    private TokenizedDataset(Path dir, Manifest manifest, Map<String, Split> splits) {
        this.dir = dir;
        this.manifest = manifest;
        this.splits = splits;
    }

    public static TokenizedDataset open(Path dir) throws IOException {
        Manifest manifest = Manifest.read(dir);
        Map<String, Split> splits = new LinkedHashMap<>();
        for (Map.Entry<String, Manifest.SplitStats> entry : manifest.splits().entrySet()) {
            splits.put(entry.getKey(), Split.open(dir, entry.getKey(), entry.getValue(), manifest.labels().size()));
        }
        return new TokenizedDataset(dir, manifest, splits);
    }

    public Manifest manifest() {
        return manifest;
    }

    /** Label names in id order. */
    public List<String> labels() {
        return manifest.labels();
    }

    /** Training checks this against its model's tokenizer: ids from another tokenizer mean other words. */
    public String tokenizerSha256() {
        return manifest.tokenizer().sha256();
    }

    public Split split(String name) {
        Split split = splits.get(name);
        if (split == null) {
            throw new DatasetException("the dataset has no '" + name + "' split; it has: " + String.join(", ", splits.keySet()));
        }
        return split;
    }

    /**
     * Refuses a dataset holding a token id that a model with {@code vocabSize} embeddings cannot look
     * up, naming the shard and row. Each shard's largest id is in the manifest (and the shard matches
     * its SHA-256), so only an offending shard is scanned, to find the row.
     */
    public void requireTokenIdsBelow(int vocabSize) {
        for (Split split : splits.values()) {
            int firstRow = 0;
            for (Shards.Mapped shard : split.shards) {
                if (shard.info.maxTokenId() >= vocabSize) {
                    for (int row = 0; row < shard.rows(); row++) {
                        int id = Arrays.stream(shard.tokens(row)).max().orElse(0);
                        if (id >= vocabSize) {
                            throw new DatasetException("shard " + shard.info.file() + " in " + dir + " has token id " + id
                                    + " in row " + row + " (row " + (firstRow + row) + " of the '" + split.name
                                    + "' split), but the model's vocabulary has " + vocabSize + " ids (0.." + (vocabSize - 1)
                                    + "): the dataset was tokenized for another model; prepare it again with the model's tokenizer");
                        }
                    }
                }
                firstRow += shard.rows();
            }
        }
    }

    /** One split's rows: token ids (no padding) and label ids. Safe to read from several threads. */
    public static final class Split implements LabeledSequences {

        private final String name;
        private final List<Shards.Mapped> shards;
        /** {@code firstRows[s]}: the split's row index of shard s's row 0; one entry more, the row count. */
        private final int[] firstRows;

        private Split(String name, List<Shards.Mapped> shards, int[] firstRows) {
            this.name = name;
            this.shards = shards;
            this.firstRows = firstRows;
        }

        static Split open(Path dir, String name, Manifest.SplitStats stats, int labelCount) throws IOException {
            List<Shards.Mapped> shards = new ArrayList<>();
            int[] firstRows = new int[stats.shards().size() + 1];
            long rows = 0;
            for (Manifest.Shard info : stats.shards()) {
                Shards.Mapped shard = Shards.open(dir, info, labelCount);
                firstRows[shards.size()] = (int) rows;
                shards.add(shard);
                rows += shard.rows();
                if (rows > Integer.MAX_VALUE) {
                    throw new DatasetException("the '" + name + "' split in " + dir + " holds more than "
                            + Integer.MAX_VALUE + " rows; prepare it in parts");
                }
            }
            if (rows != stats.rows()) {
                throw new DatasetException("the '" + name + "' shards in " + dir + " hold " + rows + " rows but "
                        + Manifest.FILE + " says " + stats.rows() + "; prepare the dataset again");
            }
            firstRows[shards.size()] = (int) rows;
            return new Split(name, shards, firstRows);
        }

        public String name() {
            return name;
        }

        @Override
        public int size() {
            return firstRows[shards.size()];
        }

        @Override
        public int[] tokens(int row) {
            int shard = shardOf(row);
            return shards.get(shard).tokens(row - firstRows[shard]);
        }

        @Override
        public int label(int row) {
            int shard = shardOf(row);
            return shards.get(shard).label(row - firstRows[shard]);
        }

        @Override
        public int length(int row) {
            int shard = shardOf(row);
            return shards.get(shard).length(row - firstRows[shard]);
        }

        private int shardOf(int row) {
            if (row < 0 || row >= size()) {
                throw new IndexOutOfBoundsException("row " + row + " of the '" + name + "' split, which has " + size() + " rows");
            }
            int found = Arrays.binarySearch(firstRows, 0, shards.size(), row);
            return found >= 0 ? found : -found - 2;
        }
    }
}
