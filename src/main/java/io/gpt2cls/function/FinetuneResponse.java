package io.gpt2cls.function;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** Where the model went and how training went. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class FinetuneResponse extends FunctionResponse {
    /**
     * "completed"; "already_completed" (the output held this run's final model: nothing was trained,
     * the numbers are that run's); "already_running" (another job for the same dataset version holds
     * the output: nothing was trained, the CLI exits with 0); "stopped" (SIGTERM: stopped after publishing {@link #checkpoint},
     * the same request resumes; the CLI exits with 143).
     */
    public String status;
    /**
     * The job's name: the dataset and its version. A second job for the same version answers
     * {@code already_running} (with {@link #heldBy}) or {@code already_completed} and trains nothing.
     */
    public String job;
    /** With {@code already_running}: the run that holds the output, and since when. */
    public String heldBy;
    public String output;
    /** The dataset's training recipe (finetune.json) this request was completed from, if it has one. */
    public String finetuneRecipe;
    public Integer globalStep;
    public Double epoch;
    public Double trainLoss;
    public Double trainRuntimeSeconds;
    public Double trainSamplesPerSecond;
    public Double trainTokensPerSecond;
    public String bestModelCheckpoint;
    public Double bestMetric;
    /** The step whose weights the final model has: the best checkpoint's with load_best_model_at_end, else the last. */
    public Integer finalModelStep;
    /** Whether early stopping ended training before max_steps. */
    public Boolean stoppedEarly;
    /** The checkpoint this run continued, if it resumed. */
    public String resumedFromCheckpoint;
    /** The newest checkpoint this run published. */
    public String checkpoint;
    /** Every checkpoint under the output, oldest first. */
    public List<String> checkpoints;
    /** The training report (report.html beside the final model). */
    public String report;
    /** Seconds this process spent in forward, backward, optimizer, evaluation and checkpoints. */
    public Map<String, Double> timings;
    /** Evaluation on the dataset's test split after the last epoch; absent without one. */
    public Evaluation eval;

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public static class Evaluation {
        public double loss;
        public double accuracy;
        public double macroF1;
        public Map<String, Map<String, Double>> perClass;
        public List<String> labels;
        /** Rows = true label, columns = predicted label, in {@code labels} order. */
        public long[][] confusionMatrix;
    }
}
