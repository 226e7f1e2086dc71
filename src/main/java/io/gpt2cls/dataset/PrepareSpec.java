package io.gpt2cls.dataset;

import io.gpt2cls.tokenizer.TruncationSide;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** What the {@code prepare} stage reads, how it splits and tokenizes, and where it writes. */
public class PrepareSpec {

    /** Training rows: {@code .jsonl} / {@code .json} (JSON Lines), {@code .csv} or {@code .tsv}. Required. */
    public Path trainFile;
    /** Test rows in the same format rules; when absent the test split is cut from {@code trainFile}. */
    public Path testFile;
    /** A {@code tokenizer.json} or a directory holding one. */
    public Path tokenizer;
    /** An empty (or absent) directory the dataset is written into; the caller publishes it (see ArtifactStore). */
    public Path outputDir;
    public String textColumn = "text";
    public String labelColumn = "label";
    /** Tokens kept per text, cut on the right; the caller clips it to the model's {@code n_positions}. */
    public int maxLength = 512;
    /** "right" keeps the start of a long text, "left" its end (Hugging Face's truncation_side). */
    public String truncationSide = "right";
    /** Share of each class moved to the test split; used only when there is no {@code testFile}. */
    public double testFraction = 0.1;
    public long seed = 42;
    /** Label order (label id = index); rows with other labels are rejected. Absent: labels found in training. */
    public List<String> labels;
    public int shardRows = 10_000;

    void validate() {
        require(trainFile != null, "trainFile is required");
        require(tokenizer != null, "tokenizer is required: a tokenizer.json or a directory holding one");
        require(outputDir != null, "outputDir is required");
        require(textColumn != null && !textColumn.isEmpty(), "textColumn must name a column");
        require(labelColumn != null && !labelColumn.isEmpty(), "labelColumn must name a column");
        require(!textColumn.equals(labelColumn), "textColumn and labelColumn are both '" + textColumn + "'; they must differ");
        require(maxLength >= 1, "maxLength must be at least 1, got " + maxLength);
        TruncationSide.parse(truncationSide);
        require(testFraction >= 0 && testFraction < 1, "testFraction must be in [0, 1), got " + testFraction);
        require(shardRows >= 1, "shardRows must be at least 1, got " + shardRows);
        if (labels != null) {
            require(labels.size() >= 2, "labels lists " + labels.size() + " label(s); a classifier needs at least 2");
            Set<String> seen = new HashSet<>();
            for (String label : labels) {
                require(label != null && !label.isEmpty(), "labels must not hold an empty label");
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
