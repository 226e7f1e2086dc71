package io.gpt2cls.training;

import java.io.IOException;
import java.util.List;

import org.jboss.logging.Logger;

import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;

/**
 * What a finetune request does with what its output already holds: a retry after a crash or a spot
 * reclaim must continue, not start over, and a finished run sent again must not train twice.
 *
 * <table>
 *   <caption>decisions, by resume_from_checkpoint</caption>
 *   <tr><th>the output holds</th><th>absent (auto)</th><th>true / "latest"</th><th>false</th></tr>
 *   <tr><td>nothing</td><td>start</td><td>refused: nothing to resume</td><td>start</td></tr>
 *   <tr><td>this run's final model</td><td>answer with it</td><td>answer with it</td><td>start over</td></tr>
 *   <tr><td>checkpoints of this run</td><td>resume the newest</td><td>resume the newest</td><td>start over</td></tr>
 *   <tr><td>checkpoints of another run, finished (its final model is there)</td><td>start over</td><td>resume the newest*</td><td>start over</td></tr>
 *   <tr><td>checkpoints of another run, unfinished</td><td>refused, saying what differs</td><td>resume the newest*</td><td>start over</td></tr>
 * </table>
 * "This run" means the same dataset (manifest SHA-256), model source and training arguments
 * ({@link RunIdentity}). "Start over" removes the output's checkpoints first, so a later retry never
 * mixes two runs; the final model there stays until the new one replaces it. *An explicit resume
 * (true, "latest" or a location, which resumes that checkpoint) may change training arguments
 * (logged), but not the dataset, and not those that move the data position or the schedule
 * ({@link TrainingArguments#DATA_POSITION}: the checkpoint's position in an epoch and its schedule
 * step would mean other rows and another learning rate) unless the request sets
 * {@code ignore_data_skip}, which starts the checkpoint's epoch from its first batch.
 */
public record ResumePlan(Action action, Location checkpoint, List<Location> checkpointsToDelete) {

    private static final Logger LOG = Logger.getLogger(ResumePlan.class);

    public enum Action { START, RESUME, ALREADY_COMPLETED }

    static ResumePlan decide(ArtifactStore store, Location output, ResumeFrom request, RunIdentity identity) throws IOException {
        List<Location> checkpoints = CheckpointPublisher.checkpoints(store, output);
        Location newest = checkpoints.isEmpty() ? null : checkpoints.get(checkpoints.size() - 1);
        boolean finished = store.exists(output, ModelCheckpoint.CONFIG_FILE);
        switch (request.mode()) {
            case NEVER:
                return start(checkpoints);
            case AT:
                if (!store.exists(request.checkpoint(), ModelCheckpoint.CONFIG_FILE)) {
                    throw new TrainingException("resume_from_checkpoint: there is no complete checkpoint at " + request.checkpoint());
                }
                requireResumable(store, request.checkpoint(), identity);
                return new ResumePlan(Action.RESUME, request.checkpoint(), List.of());
            default:
                break;
        }
        if (finished && identity.differencesFrom(RunIdentity.readFrom(store, output)).isEmpty()) {
            return new ResumePlan(Action.ALREADY_COMPLETED, null, List.of());
        }
        if (request.mode() == ResumeFrom.Mode.LATEST) {
            if (newest == null) {
                throw new TrainingException("resume_from_checkpoint is true, but " + output + " holds no complete checkpoint"
                        + " to resume; leave the field out to start, or name a checkpoint's location");
            }
            requireResumable(store, newest, identity);
            return new ResumePlan(Action.RESUME, newest, List.of());
        }
        if (newest == null) {
            return start(List.of());
        }
        List<String> differences = identity.differencesFrom(RunIdentity.readFrom(store, newest));
        if (differences.isEmpty()) {
            return new ResumePlan(Action.RESUME, newest, List.of());
        }
        if (!finished) {
            throw new TrainingException(output + " holds an unfinished run (newest checkpoint " + newest.name()
                    + ") with other settings: " + String.join(", ", differences) + ". To continue it with this request's"
                    + " settings set resume_from_checkpoint to true" + (identity.dataPositionDifferencesFrom(
                            RunIdentity.readFrom(store, newest)).isEmpty() ? "" : " and training.ignore_data_skip to true")
                    + "; to discard it and start over set it to false; or choose another output");
        }
        LOG.warnf("%s holds a finished run with other settings (%s): training anew; its %d checkpoints are removed, and its"
                + " final model stays until this run's replaces it", output, String.join(", ", differences), checkpoints.size());
        return start(checkpoints);
    }

    private static ResumePlan start(List<Location> checkpointsToDelete) {
        return new ResumePlan(Action.START, null, checkpointsToDelete);
    }

    /**
     * Refuses to resume a checkpoint of another dataset (its position in an epoch would mean other
     * rows), or with arguments that move the data position or the schedule unless the request sets ignore_data_skip.
     */
    private static void requireResumable(ArtifactStore store, Location checkpoint, RunIdentity identity) throws IOException {
        RunIdentity recorded = RunIdentity.readFrom(store, checkpoint);
        if (!identity.sameDataset(recorded)) {
            throw new TrainingException("checkpoint " + checkpoint + " was trained on another dataset (manifest sha256 "
                    + recorded.datasetSha256() + ", this request's " + identity.datasetSha256() + "): its position in an epoch"
                    + " would point at other rows; to train on this dataset from its weights, pass it as base_model");
        }
        List<String> moved = identity.dataPositionDifferencesFrom(recorded);
        if (!moved.isEmpty() && !identity.ignoresDataSkip()) {
            throw new TrainingException("checkpoint " + checkpoint + " was written with other " + String.join(", ", moved)
                    + ": these move the data position or the learning-rate schedule, so the checkpoint's position in its epoch"
                    + " (and schedule step) would mean other rows. Send the arguments it was written with to continue it"
                    + " exactly; or set training.ignore_data_skip to true to continue from its weights and optimizer state,"
                    + " starting its epoch from the first batch (the run then differs from an uninterrupted one); or set"
                    + " resume_from_checkpoint to false to start over");
        }
        List<String> differences = identity.differencesFrom(recorded);
        if (!differences.isEmpty()) {
            LOG.warnf("resuming %s with settings that differ from its run's: %s", checkpoint, String.join(", ", differences));
        }
    }
}
