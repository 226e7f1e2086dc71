package io.gpt2cls.function;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import io.gpt2cls.training.ResumeFrom;
import io.gpt2cls.training.TrainingArguments;

/**
 * Fine-tune a model on a prepared dataset. Start from {@code base_model} (a checkpoint location),
 * or, without one, from a fresh {@code preset} ("tiny", "gpt2-small").
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class FinetuneRequest extends StrictRequest {
    /** Location of a prepared dataset (the output of prepare). */
    public String dataset;
    /** A checkpoint location, or a Hugging Face Hub model id (openai-community/gpt2[@revision]), see {@link BaseModels}. */
    public String baseModel;
    public String preset = "tiny";
    /** tokenizer.json (or a Hub model id) for a preset model; GPT-2's when absent. */
    public String tokenizer;
    /** Where checkpoints and the final model go. */
    public String output;
    /** Hugging Face TrainingArguments names: learning_rate, num_train_epochs, per_device_train_batch_size, ... */
    public TrainingArguments training = new TrainingArguments();
    /** Seed of the random initialisation of a preset model. */
    public long initSeed = 42;
    /**
     * true or "latest": continue the newest checkpoint under the output; a location: continue that
     * checkpoint; false: start over. Absent: continue this run if the output holds it (see ResumePlan).
     */
    public ResumeFrom resumeFromCheckpoint = ResumeFrom.AUTO;
}
