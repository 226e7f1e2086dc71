package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A prepared dataset read back for training: the manifest and each split's rows, loaded from the
 * shards the manifest lists and checked against its counts.
 */
public final class TokenizedDataset {

    private final Manifest manifest;
    private final Map<String, Split> splits;

    private TokenizedDataset(Manifest manifest, Map<String, Split> splits) {
        this.manifest = manifest;
        this.splits = splits;
    }

    public static TokenizedDataset open(Path dir) throws IOException {
        Manifest manifest = Manifest.read(dir);
        Map<String, Split> splits = new LinkedHashMap<>();
        for (Map.Entry<String, Manifest.SplitStats> entry : manifest.splits().entrySet()) {
            splits.put(entry.getKey(), Split.load(dir, entry.getKey(), entry.getValue(), manifest.labels().size()));
        }
        return new TokenizedDataset(manifest, splits);
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

    /** One split's rows: token ids (no padding) and label ids. */
    public static final class Split implements LabeledSequences {

        private final String name;
        private final int[] inputIds;
        /** Row r is {@code inputIds[offsets[r] .. offsets[r + 1])}. */
        private final int[] offsets;
        private final int[] labels;

        private Split(String name, int[] inputIds, int[] offsets, int[] labels) {
            this.name = name;
            this.inputIds = inputIds;
            this.offsets = offsets;
            this.labels = labels;
        }

        /** Joins the split's shards into one array each, checking the rows add up to the manifest's count. */
        static Split load(Path dir, String name, Manifest.SplitStats stats, int labelCount) throws IOException {
            List<Shards.Shard> shards = new ArrayList<>();
            long rows = 0;
            long tokens = 0;
            for (String file : stats.shards()) {
                Shards.Shard shard = Shards.read(dir.resolve(file), labelCount);
                shards.add(shard);
                rows += shard.rows();
                tokens += shard.inputIds().length;
            }
            if (rows != stats.rows()) {
                throw new DatasetException("the '" + name + "' shards in " + dir + " hold " + rows + " rows but "
                        + Manifest.FILE + " says " + stats.rows() + "; prepare the dataset again");
            }
            if (tokens > Integer.MAX_VALUE - 8) {
                throw new DatasetException("the '" + name + "' split in " + dir + " holds " + tokens
                        + " tokens, more than one array can; prepare it with a smaller maxLength or fewer rows");
            }
            int[] inputIds = new int[(int) tokens];
            int[] offsets = new int[(int) rows + 1];
            int[] labels = new int[(int) rows];
            int row = 0;
            int tokenStart = 0;
            for (Shards.Shard shard : shards) {
                System.arraycopy(shard.inputIds(), 0, inputIds, tokenStart, shard.inputIds().length);
                System.arraycopy(shard.labels(), 0, labels, row, shard.rows());
                for (int r = 0; r < shard.rows(); r++) {
                    offsets[row + r + 1] = tokenStart + (int) shard.offsets()[r + 1];
                }
                row += shard.rows();
                tokenStart += shard.inputIds().length;
            }
            return new Split(name, inputIds, offsets, labels);
        }

        public String name() {
            return name;
        }

        @Override
        public int size() {
            return labels.length;
        }

        @Override
        public int[] tokens(int row) {
            return Arrays.copyOfRange(inputIds, offsets[row], offsets[row + 1]);
        }

        @Override
        public int label(int row) {
            return labels[row];
        }

        @Override
        public int length(int row) {
            return offsets[row + 1] - offsets[row];
        }
    }
}
