package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.TokenizerFiles;

/**
 * Publishes every checkpoint and the final model through the {@link ArtifactStore} as soon as the
 * Trainer has written it ({@link #onSave}): the files go into a staged set with the model's
 * tokenizer files, and {@code config.json} is committed last, so a checkpoint in S3 (or a local
 * directory) exists only once it is complete. Then rotates checkpoints: with
 * {@code save_total_limit}, the oldest beyond the limit are deleted, never the best one and never
 * the one just published (the newest: what a resume needs, and at a stop the checkpoint a retry
 * continues from). So, as in transformers' {@code _rotate_checkpoints}, a limit of 1 keeps two when
 * the best is older than the newest.
 */
public final class CheckpointPublisher implements TrainerCallback {

    private static final Logger LOG = Logger.getLogger(CheckpointPublisher.class);
    static final String PREFIX = "checkpoint-";

    private final ArtifactStore store;
    private final Location output;
    private final TokenizerFiles tokenizerFiles;
    private final Integer saveTotalLimit;

    /**
     * @param tokenizerFiles the tokenizer files every checkpoint carries, consistent with the model and with how the
     *     training texts were cut (see {@link TokenizerFiles})
     */
    public CheckpointPublisher(ArtifactStore store, Location output, TokenizerFiles tokenizerFiles, Integer saveTotalLimit) {
        this.store = store;
        this.output = output;
        this.tokenizerFiles = tokenizerFiles;
        this.saveTotalLimit = saveTotalLimit;
    }

    @Override
    public void onSave(TrainerState state, Saved saved) throws IOException {
        long start = System.nanoTime();
        try (ArtifactStore.Staging staging = store.stage(saved.location(), ModelCheckpoint.CONFIG_FILE)) {
            try (Stream<Path> files = Files.list(saved.dir())) {
                for (Path file : files.toList()) {
                    Files.move(file, staging.dir().resolve(file.getFileName()), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            tokenizerFiles.writeTo(staging.dir());
            staging.commit();
        }
        LOG.infof("published %s (%.1f s)", saved.location(), (System.nanoTime() - start) / 1e9);
        if (!saved.finalModel() && saveTotalLimit != null) {
            rotate(state, saved.name());
        }
    }

    /** The checkpoints published under {@code output}, oldest first. */
    public static List<Location> checkpoints(ArtifactStore store, Location output) throws IOException {
        return checkpointNames(store, output).stream().map(output::resolve).toList();
    }

    /** Deletes the oldest checkpoints beyond {@code save_total_limit}, keeping the best and {@code newest}. */
    private void rotate(TrainerState state, String newest) throws IOException {
        List<String> names = new ArrayList<>(checkpointNames(store, output));
        String best = state.best_model_checkpoint == null ? null : Location.parse(state.best_model_checkpoint).name();
        int excess = names.size() - saveTotalLimit;
        for (String name : names) {
            if (excess <= 0) {
                break;
            }
            if (name.equals(best) || name.equals(newest)) {
                continue;
            }
            store.deleteSet(output.resolve(name), ModelCheckpoint.CONFIG_FILE);
            LOG.infof("deleted %s (save_total_limit %d)", output.resolve(name), saveTotalLimit);
            excess--;
        }
    }

    private static List<String> checkpointNames(ArtifactStore store, Location output) throws IOException {
        return store.listSets(output, ModelCheckpoint.CONFIG_FILE).stream()
                .filter(CheckpointPublisher::isCheckpoint)
                .sorted(Comparator.comparingInt(CheckpointPublisher::step))
                .toList();
    }

    /** Whether {@code name} is a checkpoint's, {@code checkpoint-<step>}, as this publisher names them below a model. */
    public static boolean isCheckpoint(String name) {
        return name.startsWith(PREFIX) && step(name) >= 0;
    }

    /** The step of {@code checkpoint-<step>}, or -1 for another name. */
    static int step(String name) {
        try {
            return Integer.parseInt(name.substring(PREFIX.length()));
        } catch (NumberFormatException | IndexOutOfBoundsException e) {
            return -1;
        }
    }
}
