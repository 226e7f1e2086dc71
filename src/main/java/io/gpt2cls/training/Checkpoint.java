package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.type.TypeReference;

import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;

/**
 * The files of a training checkpoint ({@code checkpoint-<step>/}): everything a run needs to go on
 * exactly where it stopped, under the names Hugging Face's Trainer uses, but with safetensors and
 * JSON content (never pickle):
 *
 * <pre>
 *   config.json, model.safetensors   the model, as save_pretrained writes it (config.json is the set's commit object)
 *   optimizer.safetensors            AdamW's exp_avg, exp_avg_sq and step per trainable parameter ({@link AdamW#save})
 *   scheduler.json                   the schedule's position: last_epoch = updates applied, as LambdaLR counts them
 *   scaler.json                      fp16 only: the loss scale and its growth tracker ({@link LossScaler})
 *   rng_state.json                   how every random number is derived from the seed ({@link #RNG_SCHEME})
 *   trainer_state.json               step, epoch, log history, best metric, callbacks' state, run identity ({@link TrainerState})
 *   training_args.json               the arguments the run was started with
 * </pre>
 * plus the tokenizer files, which the publisher adds ({@link CheckpointPublisher}).
 */
public final class Checkpoint {

    public static final String ARGS_FILE = "training_args.json";
    static final String OPTIMIZER_FILE = "optimizer.safetensors";
    static final String SCHEDULER_FILE = "scheduler.json";
    static final String RNG_FILE = "rng_state.json";

    /**
     * Nothing random is kept as hidden generator state: dropout is reseeded before every forward
     * pass from (seed, global_step, micro-batch) and each epoch's order is a shuffle seeded with
     * seed + epoch. So the random state at any update follows from these three numbers, and
     * rng_state.json records the rule rather than a generator's bytes. A checkpoint written under
     * another rule cannot be resumed exactly; {@link #read} refuses it.
     */
    static final String RNG_SCHEME = "gpt2cls-rng/1: dropout seed = mix(seed, global_step, micro_batch); epoch order = shuffle(seed + epoch)";

    private Checkpoint() {}

    /** What {@link #read} gives back besides the weights (which load as a model) and the optimizer state ({@link AdamW#load}). */
    record Resumed(TrainerState state, int scheduleStep, LossScaler scaler, Path optimizerFile) {}

    static void write(Path dir, Gpt2ForSequenceClassification model, AdamW optimizer, int scheduleStep, LossScaler scaler,
                      TrainerState state, TrainingArguments args) throws IOException {
        ModelCheckpoint.save(model, dir);
        optimizer.save(dir.resolve(OPTIMIZER_FILE));
        TrainerState.JSON.writeValue(dir.resolve(SCHEDULER_FILE).toFile(), Map.of(
                "last_epoch", scheduleStep, "base_lrs", List.of(args.learning_rate)));
        if (scaler != null) {
            scaler.write(dir);
        }
        TrainerState.JSON.writeValue(dir.resolve(RNG_FILE).toFile(), Map.of("seed", args.seed, "scheme", RNG_SCHEME));
        state.write(dir);
        writeArgs(dir, args);
    }

    static void writeArgs(Path dir, TrainingArguments args) throws IOException {
        Files.writeString(dir.resolve(ARGS_FILE), TrainerState.JSON.writeValueAsString(args));
    }

    /** Reads a checkpoint's training state, refusing one that cannot continue this run exactly. */
    static Resumed read(Path dir, TrainingArguments args) throws IOException {
        for (String file : List.of(OPTIMIZER_FILE, SCHEDULER_FILE, RNG_FILE, TrainerState.FILE)) {
            if (!Files.isRegularFile(dir.resolve(file))) {
                throw new TrainingException("checkpoint " + dir.getFileName() + " has no " + file + ": it holds weights but not"
                        + " the optimizer and schedule state a resume needs (an earlier version wrote it?); start from it as"
                        + " base_model instead, or resume from a checkpoint that has one");
            }
        }
        Map<String, Object> rng = TrainerState.JSON.readValue(dir.resolve(RNG_FILE).toFile(), new TypeReference<>() {});
        if (!RNG_SCHEME.equals(rng.get("scheme"))) {
            throw new TrainingException("checkpoint " + dir.getFileName() + " draws random numbers as '" + rng.get("scheme")
                    + "', this version as '" + RNG_SCHEME + "': it cannot be resumed exactly; start from it as base_model instead");
        }
        Map<String, Object> scheduler = TrainerState.JSON.readValue(dir.resolve(SCHEDULER_FILE).toFile(), new TypeReference<>() {});
        LossScaler scaler = null;
        if (args.fp16) {
            scaler = Files.isRegularFile(dir.resolve(LossScaler.FILE)) ? LossScaler.read(dir) : new LossScaler();
        }
        return new Resumed(TrainerState.read(dir), ((Number) scheduler.get("last_epoch")).intValue(), scaler,
                dir.resolve(OPTIMIZER_FILE));
    }
}
