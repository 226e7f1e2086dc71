package io.gpt2cls.training;


import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Hyper-parameters with Hugging Face {@code TrainingArguments} names and meanings, so a recipe
 * carries over. Defaults are those of the classic IMDB fine-tuning tutorial.
 */
public class TrainingArguments {
    @JsonProperty("learning_rate") public double learning_rate = 2e-5;
    @JsonProperty("per_device_train_batch_size") public int per_device_train_batch_size = 8;
    @JsonProperty("per_device_eval_batch_size") public int per_device_eval_batch_size = 8;
    @JsonProperty("num_train_epochs") public double num_train_epochs = 3;
    /** When positive, overrides num_train_epochs: the number of optimizer updates. */
    @JsonProperty("max_steps") public int max_steps = -1;
    @JsonProperty("warmup_steps") public int warmup_steps = 0;
    /** Fraction of all updates spent warming up; used when warmup_steps is 0. */
    @JsonProperty("warmup_ratio") public double warmup_ratio = 0.0;
    @JsonProperty("weight_decay") public double weight_decay = 0.01;
    @JsonProperty("adam_beta1") public double adam_beta1 = 0.9;
    @JsonProperty("adam_beta2") public double adam_beta2 = 0.999;
    @JsonProperty("adam_epsilon") public double adam_epsilon = 1e-8;
    /** Global L2 norm the gradients are clipped to; 0 disables clipping. */
    @JsonProperty("max_grad_norm") public double max_grad_norm = 1.0;
    @JsonProperty("gradient_accumulation_steps") public int gradient_accumulation_steps = 1;
    @JsonProperty("seed") public long seed = 42;
    /** Log training progress every this many optimizer updates. */
    @JsonProperty("logging_steps") public int logging_steps = 10;
    /** "epoch" or "no". */
    @JsonProperty("eval_strategy") public String eval_strategy = "epoch";
    /** "epoch" or "no": write checkpoint-<step>/ at the end of every epoch. */
    @JsonProperty("save_strategy") public String save_strategy = "epoch";
    /** Batch rows of similar length together, so dynamic padding wastes less compute. */
    @JsonProperty("group_by_length") public boolean group_by_length = false;
    /**
     * The evaluation metric that picks the best checkpoint: loss, accuracy, macro_f1 or f1_LABEL, with
     * or without the eval_ prefix (Trainer adds it). Higher is better unless it names a loss.
     */
    @JsonProperty("metric_for_best_model") public String metric_for_best_model = "eval_loss";
    /** Write the best checkpoint's weights (by metric_for_best_model), not the last ones, as the final model. */
    @JsonProperty("load_best_model_at_end") public boolean load_best_model_at_end = false;

    /** Rejects values that would make training meaningless, naming the field and a fix. */
    public void validate() {
        require(learning_rate > 0, "learning_rate must be > 0, got " + learning_rate);
        require(per_device_train_batch_size > 0, "per_device_train_batch_size must be > 0");
        require(per_device_eval_batch_size > 0, "per_device_eval_batch_size must be > 0");
        require(max_steps > 0 || num_train_epochs > 0, "set num_train_epochs > 0 or max_steps > 0");
        require(warmup_steps >= 0, "warmup_steps must be >= 0");
        require(warmup_ratio >= 0 && warmup_ratio < 1, "warmup_ratio must be in [0, 1), got " + warmup_ratio);
        require(weight_decay >= 0, "weight_decay must be >= 0");
        require(max_grad_norm >= 0, "max_grad_norm must be >= 0 (0 disables clipping)");
        require(gradient_accumulation_steps > 0, "gradient_accumulation_steps must be >= 1");
        require(logging_steps > 0, "logging_steps must be >= 1");
        require(eval_strategy.equals("epoch") || eval_strategy.equals("no"), "eval_strategy must be 'epoch' or 'no'");
        require(save_strategy.equals("epoch") || save_strategy.equals("no"), "save_strategy must be 'epoch' or 'no'");
        require(!load_best_model_at_end || (eval_strategy.equals("epoch") && save_strategy.equals("epoch")),
                "load_best_model_at_end needs eval_strategy and save_strategy 'epoch'");
        require(metric_for_best_model != null && !metric_for_best_model.isBlank(),
                "metric_for_best_model must name an evaluation metric, e.g. loss or accuracy");
    }

    /** The key of {@code metric_for_best_model} in the evaluation's log entry, as Trainer reads it. */
    String bestModelMetric() {
        return metric_for_best_model.startsWith("eval_") ? metric_for_best_model : "eval_" + metric_for_best_model;
    }

    /** Trainer's greater_is_better default: every metric but a loss improves upwards. */
    boolean greaterIsBetter() {
        return !metric_for_best_model.endsWith("loss");
    }

    private static void require(boolean ok, String message) {
        if (!ok) {
            throw new TrainingException("training argument: " + message);
        }
    }
}
