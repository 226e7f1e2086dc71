package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.List;

import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.TokenizerFiles;

/**
 * Writes checkpoints in the Hugging Face layout that {@code from_pretrained} loads: config.json,
 * model.safetensors, tokenizer.json (+ tokenizer_config.json, special_tokens_map.json, consistent
 * with config.json and with how the training texts were cut; see {@link TokenizerFiles}),
 * trainer_state.json and training_args.json.
 *
 * <p>Each checkpoint and the final model is a set published through the {@link ArtifactStore}, with
 * {@code config.json} as its commit object: complete or absent, whenever the process dies.
 */
public final class CheckpointWriter {

    static final String ARGS_FILE = "training_args.json";

    private final ArtifactStore store;
    private final Location output;
    private final TokenizerFiles tokenizerFiles;

    public CheckpointWriter(ArtifactStore store, Location output, TokenizerFiles tokenizerFiles) {
        this.store = store;
        this.output = output;
        this.tokenizerFiles = tokenizerFiles;
    }

    /** Where checkpoints and the final model go, as the user named it. */
    public Location output() {
        return output;
    }

    /** Publishes {@code checkpoint-<global_step>/}, replacing one of the same step from an earlier run. */
    public Location writeCheckpoint(Gpt2ForSequenceClassification model, TrainerState state, TrainingArguments args) throws IOException {
        Location target = output.resolve("checkpoint-" + state.global_step);
        try (ArtifactStore.Staging staging = store.stage(target, ModelCheckpoint.CONFIG_FILE)) {
            writeFiles(model, state, args, staging.dir());
            staging.commit();
        }
        return target;
    }

    /**
     * Publishes the final model at the output root. With {@code weightsFrom} (load_best_model_at_end)
     * the weights are that checkpoint's, not the model's current ones.
     */
    public void writeFinal(Gpt2ForSequenceClassification model, TrainerState state, TrainingArguments args,
                           Location weightsFrom) throws IOException {
        try (ArtifactStore.Staging staging = store.stage(output, ModelCheckpoint.CONFIG_FILE)) {
            writeFiles(model, state, args, staging.dir());
            if (weightsFrom != null) {
                Path best = store.fetchSet(weightsFrom, ModelCheckpoint.CONFIG_FILE);
                for (String file : List.of(ModelCheckpoint.CONFIG_FILE, ModelCheckpoint.WEIGHTS_FILE)) {
                    Files.copy(best.resolve(file), staging.dir().resolve(file), StandardCopyOption.REPLACE_EXISTING);
                }
            }
            staging.commit();
        }
    }

    private void writeFiles(Gpt2ForSequenceClassification model, TrainerState state, TrainingArguments args, Path dir)
            throws IOException {
        ModelCheckpoint.save(model, dir);
        tokenizerFiles.writeTo(dir);
        state.write(dir);
        Files.writeString(dir.resolve(ARGS_FILE), TrainerState.JSON.writeValueAsString(args));
    }
}
