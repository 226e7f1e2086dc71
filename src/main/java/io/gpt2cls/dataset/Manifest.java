package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import io.gpt2cls.tokenizer.TokenizerFingerprint;

/**
 * {@code manifest.json}: what a prepared dataset holds and how it was made. The prepare stage
 * writes it and training reads it; both through this class, so the two cannot drift apart.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Manifest(
        String format,
        String createdAt,
        TokenizerInfo tokenizer,
        int maxLength,
        /** Which end of a long text was cut: "right" keeps the start, "left" keeps the end. */
        String truncationSide,
        String textColumn,
        String labelColumn,
        List<String> labels,
        Map<String, Integer> label2id,
        /** The inputs as the user gave them (a file, a directory or prefix, or a pattern), by split name. */
        Map<String, String> inputs,
        SplitMethod split,
        List<Source> sources,
        Map<String, SplitStats> splits,
        Leakage leakage,
        RejectedReport rejected) {

    /** 2: shards listed with rows, bytes and SHA-256; token stats before truncation; duplicates and leakage. */
    public static final String FORMAT = "gpt2cls-tokenized/2";
    public static final String FILE = "manifest.json";
    public static final String REJECTED_FILE = "rejected.jsonl";
    public static final String TRAIN = "train";
    public static final String TEST = "test";

    /** Readers ignore fields added later within the same format version. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /**
     * The {@code tokenizer.json} the ids came from: its bytes' SHA-256, where it was, and what it does
     * ({@link TokenizerFingerprint}; absent in manifests written before it existed). Training refuses a
     * model whose tokenizer has another fingerprint.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record TokenizerInfo(String sha256, String file, TokenizerFingerprint fingerprint) {}

    /** {@code stratified}: test rows cut from the training file per class; {@code files}: a test file was given. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SplitMethod(String strategy, Double testFraction, long seed) {
        public static final String STRATIFIED = "stratified";
        public static final String FILES = "files";
    }

    /**
     * One input file, by the location the user gave: {@code accepted + rejected == rows_read}. {@code input}
     * is the input it was read for ({@code train} or {@code test}); with a stratified split both splits
     * come from the {@code train} input.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Source(String path, String input, String sha256, long rowsRead, long accepted, long rejected) {}

    /**
     * One split. {@code duplicates}: rows whose exact text occurs earlier in the same split.
     * {@code tokens}: the rows as stored (cut to max_length); {@code tokens_before_truncation}: the whole
     * texts, to choose max_length from; {@code truncated}: rows cut, and their share of the split.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record SplitStats(int rows, Map<String, Integer> perClass, int duplicates, List<Shard> shards,
            TokenStats tokens, TokenStats tokensBeforeTruncation, int truncated, double truncatedFraction) {}

    /**
     * One shard file: its rows, size, SHA-256 (checked when the shard is opened) and largest token id
     * (checked against a model's vocabulary, see {@link TokenizedDataset#requireTokenIdsBelow}).
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Shard(String file, int rows, long bytes, String sha256, int maxTokenId) {}

    /** Tokens per row; percentiles by nearest rank. All zero for an empty split. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TokenStats(long total, int min, int max, double mean, int p50, int p90, int p95, int p99) {

        static TokenStats of(int[] lengths) {
            if (lengths.length == 0) {
                return new TokenStats(0, 0, 0, 0, 0, 0, 0, 0);
            }
            int[] sorted = lengths.clone();
            Arrays.sort(sorted);
            long total = Arrays.stream(sorted).asLongStream().sum();
            return new TokenStats(total, sorted[0], sorted[sorted.length - 1], (double) total / sorted.length,
                    nearestRank(sorted, 50), nearestRank(sorted, 90), nearestRank(sorted, 95), nearestRank(sorted, 99));
        }

        private static int nearestRank(int[] sorted, int percent) {
            int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
            return sorted[Math.max(rank, 1) - 1];
        }
    }

    /**
     * Test rows whose exact text is also in the train split: evaluation on them measures memory, not
     * generalisation. {@code dropped}: whether they were left out of the test split (then each is in
     * {@code rejected.jsonl}); {@code examples}: the first few.
     */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Leakage(int rows, boolean dropped, List<LeakedRow> examples) {}

    /** One leaked text: its start and where it is in each split. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record LeakedRow(String textPreview, String train, String test) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record RejectedReport(long count, String report) {}

    /** Reads {@code dir/manifest.json}, refusing a missing file or another format. */
    public static Manifest read(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            throw new DatasetException("no " + FILE + " in " + dir + "; it is not a prepared dataset (run prepare first)");
        }
        JsonNode tree;
        try {
            tree = JSON.readTree(file.toFile());
        } catch (IOException e) {
            throw new DatasetException(file + " is not valid JSON: " + e.getMessage());
        }
        String format = tree.path("format").asText(null);
        if (!FORMAT.equals(format)) {
            // format 1 lists shards without checksums; a prepare run is cheaper than a second reader
            throw new DatasetException(file + " has format " + (format == null ? "(none)" : "'" + format + "'")
                    + "; this reader reads '" + FORMAT + "': prepare the dataset again with this version");
        }
        Manifest manifest;
        try {
            manifest = JSON.treeToValue(tree, Manifest.class);
        } catch (JsonProcessingException e) {
            throw new DatasetException(file + " does not describe a dataset (" + e.getOriginalMessage()
                    + "); prepare the dataset again");
        }
        manifest.requirePlainFileNames(file);
        return manifest;
    }

    /**
     * Every file the manifest names is a plain name inside the set: readers resolve these names against
     * the set's directory, so a name with a separator, {@code ..} or a root would reach outside it.
     */
    private void requirePlainFileNames(Path file) {
        if (splits != null) {
            splits.forEach((split, stats) -> {
                if (stats != null && stats.shards() != null) {
                    stats.shards().forEach(shard -> requirePlainFileName(file, "a shard of split '" + split + "'",
                            shard == null ? null : shard.file()));
                }
            });
        }
        if (rejected != null && rejected.report() != null) {
            requirePlainFileName(file, "the rejected rows report", rejected.report());
        }
    }

    private static void requirePlainFileName(Path file, String what, String name) {
        boolean plain = name != null && !name.isEmpty() && !name.equals(".") && !name.equals("..")
                && name.chars().noneMatch(c -> c == '/' || c == '\\' || c == 0 || c == ':');
        if (!plain) {
            throw new DatasetException(file + " names " + what + " '" + name + "', which is not a plain file name inside"
                    + " the dataset (no '/', '\\', ':', '..' or absolute paths); prepare the dataset again");
        }
    }

    void write(Path dir) throws IOException {
        JSON.writeValue(dir.resolve(FILE).toFile(), this);
    }
}
