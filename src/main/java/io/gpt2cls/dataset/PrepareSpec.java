package io.gpt2cls.dataset;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import io.gpt2cls.tokenizer.TruncationSide;

/** What the {@code prepare} stage reads, how it splits and tokenizes, and where it writes. */
public class PrepareSpec {

    /** Shards small enough to fetch, verify and page in one at a time, large enough to be few. */
    public static final long DEFAULT_MAX_SHARD_BYTES = 64L * 1024 * 1024;

    /**
     * Training rows, one or more files read in order (the part files of one dataset): {@code .jsonl} /
     * {@code .json} (JSON Lines), {@code .csv}, {@code .tsv}, each optionally gzip-compressed, or
     * {@code .parquet}. Required.
     */
    public List<InputFile> trainFiles;
    /** Test rows under the same rules; when absent (or empty) the test split is cut from the training rows. */
    public List<InputFile> testFiles;
    /** The train input as the user gave it (a file, a directory or prefix, or a pattern); default: the single file's location. */
    public String trainLocation;
    public String testLocation;
    /** A {@code tokenizer.json} or a directory holding one. */
    public Path tokenizer;
    /** Where the tokenizer came from, as the user knows it; the manifest records it. Default: {@link #tokenizer}. */
    public String tokenizerLocation;
    /** An empty (or absent) directory the dataset is written into; the caller publishes it (see ArtifactStore). */
    public Path outputDir;
    public String textColumn = "text";
    public String labelColumn = "label";
    /** Tokens kept per text; the caller clips it to the model's {@code n_positions}. */
    public int maxLength = 512;
    /** "right" keeps the start of a long text, "left" its end (Hugging Face's truncation_side). */
    public String truncationSide = "right";
    /**
     * Share of the accepted training rows moved to the test split; used only without test files. The
     * split takes exactly round(rows x testFraction) rows (halves up), shared among the classes in
     * proportion to their size (largest remainder) while every class keeps a training row. A fraction
     * that gives no test row, or more than the classes can give, is refused with the range that works.
     */
    public double testFraction = 0.1;
    public long seed = 42;
    /** Label order (label id = index); rows with other labels are rejected. Absent: labels found in training. */
    public List<String> labels;
    /** Largest shard file, header included; at least one row of maxLength tokens must fit. */
    public long maxShardBytes = DEFAULT_MAX_SHARD_BYTES;
    /** Leave test rows whose exact text is also in the train split out of the test split (each becomes a rejected row). */
    public boolean dropLeakedTestRows;
    /**
     * Map tasks run at once ({@link DatasetPreparer#prepare}); each task's tokenizing spreads over the
     * cores too, so more than one pays off when tasks wait on reading or parsing. The result is the same
     * for any number.
     */
    public int workers = 1;
    /**
     * Uncompressed JSON Lines and Parquet files larger than this are cut into map tasks of about this
     * many bytes (see {@link PrepareTask#plan}); by default every file is one task. The result is the same
     * for any size.
     */
    public long taskBytes = Long.MAX_VALUE;

    /**
     * The columns read of each row, the text's and the label's: a Parquet file's reader reads only
     * these, and a map task of a range of its row groups fetches only their column chunks.
     */
    public List<String> columnsRead() {
        return List.of(textColumn, labelColumn);
    }

    boolean hasTestFiles() {
        return testFiles != null && !testFiles.isEmpty();
    }

    void validate() {
        require(trainFiles != null && !trainFiles.isEmpty(), "trainFiles is required: one or more files of training rows");
        require(tokenizer != null, "tokenizer is required: a tokenizer.json or a directory holding one");
        require(outputDir != null, "outputDir is required");
        require(textColumn != null && !textColumn.isEmpty(), "textColumn must name a column");
        require(labelColumn != null && !labelColumn.isEmpty(), "labelColumn must name a column");
        require(!textColumn.equals(labelColumn), "textColumn and labelColumn are both '" + textColumn + "'; they must differ");
        require(maxLength >= 1, "maxLength must be at least 1, got " + maxLength);
        require(workers >= 1, "workers must be at least 1, got " + workers);
        require(taskBytes >= 1, "taskBytes must be at least 1, got " + taskBytes);
        TruncationSide.parse(truncationSide);
        require(testFraction >= 0 && testFraction < 1, "testFraction must be in [0, 1), got " + testFraction);
        long oneRow = Shards.bytesFor(1, maxLength);
        require(maxShardBytes >= oneRow, "maxShardBytes must be at least " + oneRow + " (one row of maxLength "
                + maxLength + " tokens), got " + maxShardBytes);
        if (labels != null) {
            require(labels.size() >= 2, "labels lists " + labels.size() + " label(s); a classifier needs at least 2");
            Set<String> seen = new HashSet<>();
            for (String label : labels) {
                require(label != null && !label.isBlank(), "labels must not hold an empty or blank label");
                require(seen.add(label), "labels lists '" + label + "' twice");
            }
        }
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new DatasetException("invalid prepare spec: " + message);
        }
    }
}
