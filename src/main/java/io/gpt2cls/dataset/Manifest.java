package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

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
        SplitMethod split,
        List<Source> sources,
        Map<String, SplitStats> splits,
        RejectedReport rejected) {

    public static final String FORMAT = "gpt2cls-tokenized/1";
    public static final String FILE = "manifest.json";
    public static final String REJECTED_FILE = "rejected.jsonl";
    public static final String TRAIN = "train";
    public static final String TEST = "test";

    /** Readers ignore fields added later within the same format version. */
    private static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** The {@code tokenizer.json} the ids came from; training refuses a model whose tokenizer differs. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TokenizerInfo(String sha256, String file) {}

    /** {@code stratified}: test rows cut from the training file per class; {@code files}: a test file was given. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record SplitMethod(String strategy, Double testFraction, long seed) {
        public static final String STRATIFIED = "stratified";
        public static final String FILES = "files";
    }

    /** One input file: {@code accepted + rejected == rows_read}. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record Source(String path, String sha256, long rowsRead, long accepted, long rejected) {}

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record SplitStats(int rows, Map<String, Integer> perClass, List<String> shards, TokenStats tokens, int truncated) {}

    /** Tokens per row; percentiles by nearest rank. All zero for an empty split. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public record TokenStats(long total, int min, int max, double mean, int p50, int p95) {

        static TokenStats of(int[] lengths) {
            if (lengths.length == 0) {
                return new TokenStats(0, 0, 0, 0, 0, 0);
            }
            int[] sorted = lengths.clone();
            Arrays.sort(sorted);
            long total = Arrays.stream(sorted).asLongStream().sum();
            return new TokenStats(total, sorted[0], sorted[sorted.length - 1], (double) total / sorted.length,
                    nearestRank(sorted, 50), nearestRank(sorted, 95));
        }

        private static int nearestRank(int[] sorted, int percent) {
            int rank = (int) Math.ceil(percent / 100.0 * sorted.length);
            return sorted[Math.max(rank, 1) - 1];
        }
    }

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
            throw new DatasetException(file + " has format " + (format == null ? "(none)" : "'" + format + "'")
                    + "; this reader reads '" + FORMAT + "': prepare the dataset again with this version");
        }
        return JSON.treeToValue(tree, Manifest.class);
    }

    void write(Path dir) throws IOException {
        JSON.writeValue(dir.resolve(FILE).toFile(), this);
    }
}
