package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * Hugging Face's {@code trainer_state.json}: progress, the log history, the best checkpoint, and
 * the state of callbacks that have one ({@code stateful_callbacks}, e.g. early stopping's counter).
 *
 * <p>Beyond transformers' keys it holds what an exact resume needs and transformers keeps nowhere:
 * the identity of the run ({@code dataset_sha256}, {@code model_source}: a resumed run must be the
 * same run), the running sums behind the next log line ({@code total_train_loss} and the
 * {@code logging_window_*} sums since the last logged step), so a run resumed mid-window logs what
 * an uninterrupted one would, the position in the training data ({@code epoch_index},
 * {@code epoch_batches_consumed}) and, in a checkpoint written at a stop, the work that was due
 * after its update but skipped ({@code evaluation_due}, {@code save_due}). Readers that load the file with {@code json.load} see extra keys;
 * transformers' own {@code TrainerState.load_from_json} would refuse them, but a checkpoint of ours
 * cannot be resumed by transformers anyway (its optimizer state is safetensors, not pickle).
 */
public class TrainerState {
    public static final String FILE = "trainer_state.json";
    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    @JsonProperty("global_step") public int global_step;
    @JsonProperty("epoch") public double epoch;
    @JsonProperty("max_steps") public int max_steps;
    @JsonProperty("num_train_epochs") public int num_train_epochs;
    @JsonProperty("logging_steps") public int logging_steps;
    @JsonProperty("eval_steps") public int eval_steps;
    @JsonProperty("save_steps") public int save_steps;
    @JsonProperty("train_batch_size") public int train_batch_size;
    @JsonProperty("best_metric") public Double best_metric;
    @JsonProperty("best_global_step") public Integer best_global_step;
    @JsonProperty("best_model_checkpoint") public String best_model_checkpoint;
    @JsonProperty("is_local_process_zero") public boolean is_local_process_zero = true;
    @JsonProperty("is_world_process_zero") public boolean is_world_process_zero = true;
    @JsonProperty("log_history") public List<Map<String, Object>> log_history = new ArrayList<>();
    /** Per callback name: {"args": {...}, "attributes": {...}}, as transformers' ExportableState writes it. */
    @JsonProperty("stateful_callbacks") public Map<String, Map<String, Map<String, Object>>> stateful_callbacks = new LinkedHashMap<>();

    /** SHA-256 of the dataset's manifest.json: a resumed run reads the same rows in the same order. */
    @JsonProperty("dataset_sha256") public String dataset_sha256;
    /** Where the weights came from at step 0: a base model's location, or a preset and its seed. */
    @JsonProperty("model_source") public String model_source;
    /** The Hub revision the base model was fetched at ({@code openai-community/gpt2@<commit>}), when it came from the Hub. */
    @JsonProperty("base_model_revision") public String base_model_revision;
    /** {@link io.gpt2cls.tokenizer.TokenizerFingerprint} of the tokenizer the run's dataset and model share. */
    @JsonProperty("tokenizer_fingerprint") public String tokenizer_fingerprint;
    /** The sum of every update's loss so far; train_loss at the end is this / global_step. */
    @JsonProperty("total_train_loss") public double total_train_loss;
    /** Sums over the updates since the last logged step, which the next log line averages. */
    @JsonProperty("logging_window_loss") public double logging_window_loss;
    @JsonProperty("logging_window_grad_norm") public double logging_window_grad_norm;
    @JsonProperty("logging_window_updates") public int logging_window_updates;
    /**
     * Where the training data stands: the epoch (0-based) and how many of its micro-batches (in the
     * epoch's order, see {@link BatchPlan#trainingEpoch}) have been trained on. A resume continues
     * there, as recorded, rather than working it out from global_step. Null in a checkpoint written
     * before it was recorded.
     */
    @JsonProperty("epoch_index") public Integer epoch_index;
    @JsonProperty("epoch_batches_consumed") public Integer epoch_batches_consumed;
    /**
     * A stop skipped the evaluation due after global_step (no evaluation starts once a stop is
     * requested) and, with save_due, the save that follows it; a resume runs them first, as the
     * uninterrupted run did.
     */
    @JsonProperty("evaluation_due") public boolean evaluation_due;
    @JsonProperty("save_due") public boolean save_due;

    void write(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), JSON.writeValueAsString(this));
    }

    public static TrainerState read(Path dir) throws IOException {
        return JSON.readValue(dir.resolve(FILE).toFile(), TrainerState.class);
    }
}
