package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Predicate;

import com.fasterxml.jackson.databind.JsonNode;

import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;

/**
 * What makes two runs the same run: the dataset (its manifest's SHA-256), where the weights came
 * from at step 0, and every training argument. A checkpoint records them ({@code trainer_state.json},
 * {@code training_args.json}), so a request sent again after a crash can tell its own checkpoints
 * from another run's.
 */
record RunIdentity(String datasetSha256, String modelSource, JsonNode args) {

    static RunIdentity of(String datasetSha256, String modelSource, TrainingArguments args) throws IOException {
        // through text, as a recorded one is read, so numbers compare as the same node types
        return new RunIdentity(datasetSha256, modelSource, TrainerState.JSON.readTree(TrainerState.JSON.writeValueAsString(args)));
    }

    /** The identity recorded in the checkpoint or final model at {@code set}, reading only its two small JSON files. */
    static RunIdentity readFrom(ArtifactStore store, Location set) throws IOException {
        TrainerState state = TrainerState.read(store.fetchFile(set.resolve(TrainerState.FILE)).getParent());
        Path args = store.fetchFile(set.resolve(Checkpoint.ARGS_FILE));
        return new RunIdentity(state.dataset_sha256, state.model_source, TrainerState.JSON.readTree(Files.readString(args)));
    }

    /** What differs from {@code other} (the recorded run), in a person's words; empty when it is the same run. */
    List<String> differencesFrom(RunIdentity other) {
        List<String> differences = new ArrayList<>();
        if (!Objects.equals(datasetSha256, other.datasetSha256)) {
            differences.add("dataset (manifest sha256 " + abbreviate(other.datasetSha256) + " there, " + abbreviate(datasetSha256) + " here)");
        }
        if (!Objects.equals(modelSource, other.modelSource)) {
            differences.add("model (" + other.modelSource + " there, " + modelSource + " here)");
        }
        differences.addAll(argumentDifferencesFrom(other, name -> !name.equals("ignore_data_skip"))); // how to resume, not what the run is
        return differences;
    }

    /**
     * The arguments that differ and move the data position or the schedule ({@link TrainingArguments#DATA_POSITION}):
     * those a resume may not change without ignore_data_skip. (Another dataset is never resumed, see {@link ResumePlan}.)
     */
    List<String> dataPositionDifferencesFrom(RunIdentity other) {
        return argumentDifferencesFrom(other, TrainingArguments.DATA_POSITION::contains);
    }

    private List<String> argumentDifferencesFrom(RunIdentity other, Predicate<String> compared) {
        TreeSet<String> names = new TreeSet<>();
        args.fieldNames().forEachRemaining(names::add);
        other.args.fieldNames().forEachRemaining(names::add);
        List<String> differences = new ArrayList<>();
        for (String name : names) {
            JsonNode here = args.get(name);
            JsonNode there = other.args.get(name);
            if (compared.test(name) && !Objects.equals(here, there)) {
                differences.add(name + " (" + there + " there, " + here + " here)");
            }
        }
        return differences;
    }

    /** Whether this request lets a resume change the data position ({@link TrainingArguments#ignore_data_skip}). */
    boolean ignoresDataSkip() {
        return args.path("ignore_data_skip").asBoolean(false);
    }

    boolean sameDataset(RunIdentity other) {
        return Objects.equals(datasetSha256, other.datasetSha256);
    }

    private static String abbreviate(String hash) {
        return hash == null ? "unknown" : hash.substring(0, Math.min(12, hash.length()));
    }
}
