package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import io.gpt2cls.storage.Location;

/**
 * Hugging Face's {@code TrainerCallback}: the {@link Trainer} announces what happens, and what is
 * not training itself listens (publishing checkpoints, early stopping, logs for machines, the
 * report). Callbacks run on the training thread, in the order they were added; each method has a
 * no-op default, so a callback implements only the events it cares about.
 */
public interface TrainerCallback {

    /** Before the first update of this process (after a resume: of the resumed run). */
    default void onTrainBegin(TrainerState state, TrainerControl control) {}

    /**
     * After an optimizer update, once the Trainer has decided what follows it ({@code control}'s
     * should-flags); a callback may change those decisions.
     */
    default void onStepEnd(TrainerState state, TrainerControl control) {}

    /** An entry was added to {@code state.log_history}: progress, an evaluation, or the final summary. */
    default void onLog(TrainerState state, Map<String, Object> entry) {}

    /** An evaluation finished; {@code state.best_metric} is still the best before it. */
    default void onEvaluate(TrainerState state, TrainerControl control, ClassificationMetrics metrics) {}

    /**
     * A checkpoint (or, with {@link Saved#finalModel()}, the final model) was written into a local
     * directory, which the Trainer deletes once every callback has seen it. Publishing it is a
     * callback's job ({@link CheckpointPublisher}).
     */
    default void onSave(TrainerState state, Saved saved) throws IOException {}

    /**
     * What {@link #onSave} announces.
     *
     * @param name {@code checkpoint-<step>}, or "" for the final model
     * @param dir the local directory holding the files
     * @param location where the set belongs: {@code <output>/<name>}, or the output itself for the final model
     * @param metrics the evaluation of these weights, or null if they were not evaluated
     */
    record Saved(String name, Path dir, Location location, boolean finalModel, ClassificationMetrics metrics) {}
}
