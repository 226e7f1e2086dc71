package io.gpt2cls.function;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.dataset.PrepareSummary;
import io.gpt2cls.dataset.Rejection;
import io.gpt2cls.storage.Location;

/** What prepare did: counts (rows_read == accepted + rejected), labels, per-split stats, the first rejections. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PrepareResponse extends FunctionResponse {
    /** The uploaded object that started this run, when an S3 or EventBridge event did. */
    public String triggeredBy;
    /**
     * Why nothing was prepared: the event named a file that is not a dataset's training or settings
     * file, or the output already holds (or another run is preparing) the dataset of the same inputs.
     */
    public String skipped;
    /** A hash of the request and of each input file's version (ETag): what the output's manifest records as {@code prepared_from}. */
    public String inputsVersion;
    /** Set, with output only, when an upload's input was large enough to be prepared by a distributed run: the run (execution ARN). */
    public String distributedRun;
    /** Set, with output and manifest only, when a distributed run's reduce ran before: where its first answer is kept. */
    public String reducedBefore;
    public String output;
    /** The finetune.json found beside the training input, published with the dataset as its training recipe. */
    public String finetuneRecipe;
    public String manifest;
    public Long rowsRead;
    public Long accepted;
    public Long rejected;
    public List<String> labels;
    /** How the test split was made: from test files, or cut from train (test_fraction, seed). */
    public Manifest.SplitMethod split;
    public Map<String, Manifest.SplitStats> splits;
    /** Test rows whose exact text is also in train: count, whether dropped, first examples. */
    public Manifest.Leakage leakage;
    public List<Manifest.Source> sources;
    /** The first rejected rows; all of them are in rejected.jsonl next to the manifest. */
    public List<Rejection> firstRejections;

    /** Nothing prepared: {@code output} has (or is getting) the dataset of these inputs already. */
    static PrepareResponse skipped(Location output, String reason, String inputsVersion) {
        PrepareResponse response = new PrepareResponse();
        response.skipped = reason;
        response.output = output.toString();
        response.manifest = output.resolve(Manifest.FILE).toString();
        response.inputsVersion = inputsVersion;
        return response;
    }

    static PrepareResponse of(Location output, PrepareSummary summary) {
        PrepareResponse response = new PrepareResponse();
        response.output = output.toString();
        response.manifest = output.resolve(Manifest.FILE).toString();
        response.rowsRead = summary.rowsRead();
        response.accepted = summary.accepted();
        response.rejected = summary.rejected();
        response.labels = summary.labels();
        response.split = summary.split();
        response.splits = summary.splits();
        response.leakage = summary.leakage();
        response.sources = summary.sources();
        response.firstRejections = summary.firstRejections();
        return response;
    }
}
