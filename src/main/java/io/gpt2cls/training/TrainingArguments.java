package io.gpt2cls.training;


import java.util.Set;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Hyper-parameters with Hugging Face {@code TrainingArguments} names and meanings, so a recipe
 * carries over. Defaults are those of the classic IMDB fine-tuning tutorial; where transformers'
 * own default differs for the newer fields, its default is taken ({@code save_steps} 500,
 * {@code eval_steps} = {@code logging_steps}). Two groups are not TrainingArguments fields in
 * transformers but sit here because they shape the run the same way: {@code early_stopping_*}
 * ({@code EarlyStoppingCallback}'s arguments) and {@code freeze_embeddings}.
 */
public class TrainingArguments {
    static final Set<String> STRATEGIES = Set.of("no", "steps", "epoch");

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
    /** "no", "steps" (every eval_steps updates) or "epoch". */
    @JsonProperty("eval_strategy") public String eval_strategy = "epoch";
    /** With eval_strategy "steps": evaluate every this many updates; unset, logging_steps. */
    @JsonProperty("eval_steps") public Integer eval_steps;
    /** "no", "steps" (checkpoint-<step>/ every save_steps updates and at the last) or "epoch" (at every epoch's end). */
    @JsonProperty("save_strategy") public String save_strategy = "epoch";
    /** With save_strategy "steps": write a checkpoint every this many updates. */
    @JsonProperty("save_steps") public int save_steps = 500;
    /** Keep at most this many checkpoints, deleting the oldest; the best one (by metric_for_best_model) is never deleted. Unset: keep all. */
    @JsonProperty("save_total_limit") public Integer save_total_limit;
    /** Batch rows of similar length together, so dynamic padding wastes less compute. */
    @JsonProperty("group_by_length") public boolean group_by_length = false;
    /**
     * The evaluation metric that picks the best checkpoint: loss, accuracy, macro_f1 or f1_LABEL, with
     * or without the eval_ prefix (Trainer adds it). Higher is better unless it names a loss.
     */
    @JsonProperty("metric_for_best_model") public String metric_for_best_model = "eval_loss";
    /** Write the best checkpoint's weights (by metric_for_best_model), not the last ones, as the final model. */
    @JsonProperty("load_best_model_at_end") public boolean load_best_model_at_end = false;
    /**
     * Stop when metric_for_best_model has not improved by more than early_stopping_threshold for
     * this many evaluations in a row (EarlyStoppingCallback). Unset: never stop early. Needs
     * load_best_model_at_end, as in transformers.
     */
    @JsonProperty("early_stopping_patience") public Integer early_stopping_patience;
    @JsonProperty("early_stopping_threshold") public double early_stopping_threshold = 0.0;
    /** Do not train the token and position embeddings (wte, wpe): they keep the base model's values. */
    @JsonProperty("freeze_embeddings") public boolean freeze_embeddings = false;
    /**
     * Mixed precision: the forward and backward passes compute in float16 while the weights and
     * AdamW's moments stay float32 ("master weights"), with dynamic loss scaling. For GPUs; on a CPU
     * float16 is slower than float32.
     */
    @JsonProperty("fp16") public boolean fp16 = false;
    /**
     * transformers' {@code ignore_data_skip}: a resume starts the epoch it stopped in from its first
     * batch instead of where the checkpoint stopped. It is also how a resume (resume_from_checkpoint
     * true, "latest" or a location) may change the arguments in {@link #DATA_POSITION} (see
     * {@link ResumePlan}); the run then differs from an uninterrupted one. Not part of a run's identity.
     */
    @JsonProperty("ignore_data_skip") public boolean ignore_data_skip = false;

    /**
     * The arguments that decide which rows each update trains on (batch size, accumulation, seed,
     * grouping) or where the schedule stands (its length and warmup). A checkpoint's data position
     * and schedule step mean something else under other values, so a resume that changes one is
     * refused unless it sets ignore_data_skip.
     */
    static final Set<String> DATA_POSITION = Set.of("per_device_train_batch_size", "gradient_accumulation_steps", "seed",
            "group_by_length", "num_train_epochs", "max_steps", "warmup_steps", "warmup_ratio");

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
        require(STRATEGIES.contains(eval_strategy), "eval_strategy must be 'no', 'steps' or 'epoch', got '" + eval_strategy + "'");
        require(STRATEGIES.contains(save_strategy), "save_strategy must be 'no', 'steps' or 'epoch', got '" + save_strategy + "'");
        require(eval_steps == null || eval_steps > 0, "eval_steps must be >= 1");
        require(save_steps > 0, "save_steps must be >= 1");
        require(save_total_limit == null || save_total_limit > 0, "save_total_limit must be >= 1 (leave it out to keep every checkpoint)");
        require(metric_for_best_model != null && !metric_for_best_model.isBlank(),
                "metric_for_best_model must name an evaluation metric, e.g. loss or accuracy");
        if (load_best_model_at_end) {
            // transformers' rule: the best model must be a saved checkpoint, so every evaluation is followed by a save
            require(!eval_strategy.equals("no") && eval_strategy.equals(save_strategy),
                    "load_best_model_at_end needs eval_strategy and save_strategy to be the same ('steps' or 'epoch'), got '"
                            + eval_strategy + "' and '" + save_strategy + "'");
            require(!save_strategy.equals("steps") || save_steps % evalSteps() == 0,
                    "load_best_model_at_end needs save_steps to be a multiple of eval_steps, got " + save_steps + " and " + evalSteps());
        }
        require(early_stopping_patience == null || early_stopping_patience > 0, "early_stopping_patience must be >= 1");
        require(early_stopping_patience == null || load_best_model_at_end,
                "early_stopping_patience needs load_best_model_at_end true (the model kept is the best one seen), as in transformers");
        require(early_stopping_threshold >= 0, "early_stopping_threshold must be >= 0");
    }

    /** Updates between evaluations with eval_strategy "steps". */
    int evalSteps() {
        return eval_steps != null ? eval_steps : logging_steps;
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
