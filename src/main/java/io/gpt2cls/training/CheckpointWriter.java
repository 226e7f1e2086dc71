package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;

import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TruncationSide;

/**
 * Writes checkpoints in the Hugging Face layout that {@code from_pretrained} loads: config.json,
 * model.safetensors, tokenizer.json (+ tokenizer_config.json, special_tokens_map.json),
 * trainer_state.json and training_args.json.
 *
 * <p>A checkpoint directory is complete or absent: files go to a hidden temporary directory that
 * is renamed into place last, so a crash or a spot interruption never leaves half a checkpoint.
 */
public final class CheckpointWriter {

    static final String ARGS_FILE = "training_args.json";
    private static final List<String> COMPANION_FILES = List.of("tokenizer_config.json", "special_tokens_map.json");

    private final Path outputDir;
    private final Path tokenizerFile;
    private final TruncationSide truncationSide;

    public CheckpointWriter(Path outputDir, Path tokenizerFile, TruncationSide truncationSide) {
        this.outputDir = outputDir;
        this.tokenizerFile = tokenizerFile;
        this.truncationSide = truncationSide;
    }

    public Path outputDir() {
        return outputDir;
    }

    /** Writes {@code checkpoint-<global_step>/}, replacing one of the same step from an earlier run. */
    public Path writeCheckpoint(Gpt2ForSequenceClassification model, TrainerState state, TrainingArguments args) throws IOException {
        Path target = outputDir.resolve("checkpoint-" + state.global_step);
        Path staging = writeStaging(model, state, args);
        if (Files.exists(target)) {
            Path old = outputDir.resolve(".replaced-" + target.getFileName() + "-" + System.nanoTime());
            Files.move(target, old, StandardCopyOption.ATOMIC_MOVE);
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
            deleteTree(old);
        } else {
            Files.move(staging, target, StandardCopyOption.ATOMIC_MOVE);
        }
        return target;
    }

    /**
     * Writes the final model at the output root; each file is renamed into place whole. With
     * {@code weightsFrom} (load_best_model_at_end) the weights are that checkpoint's, not the
     * model's current ones.
     */
    public void writeFinal(Gpt2ForSequenceClassification model, TrainerState state, TrainingArguments args,
                           Path weightsFrom) throws IOException {
        Path staging = writeStaging(model, state, args);
        if (weightsFrom != null) {
            for (String file : List.of(ModelCheckpoint.CONFIG_FILE, ModelCheckpoint.WEIGHTS_FILE)) {
                Files.copy(weightsFrom.resolve(file), staging.resolve(file), StandardCopyOption.REPLACE_EXISTING);
            }
        }
        try (Stream<Path> files = Files.list(staging)) {
            for (Path file : files.toList()) {
                Files.move(file, outputDir.resolve(file.getFileName()), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            }
        }
        Files.delete(staging);
    }

    private Path writeStaging(Gpt2ForSequenceClassification model, TrainerState state, TrainingArguments args) throws IOException {
        Files.createDirectories(outputDir);
        // createTempDirectory makes it private (rwx------); a checkpoint is read by others (serving, sync jobs)
        Path staging = Files.createTempDirectory(outputDir, ".staging-");
        if (Files.getFileStore(staging).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(staging, PosixFilePermissions.fromString("rwxr-xr-x"));
        }
        try {
            ModelCheckpoint.save(model, staging);
            Files.copy(tokenizerFile, staging.resolve(TextTokenizer.TOKENIZER_FILE));
            for (String name : COMPANION_FILES) {
                Path source = tokenizerFile.resolveSibling(name);
                if (Files.exists(source)) {
                    Files.copy(source, staging.resolve(name));
                }
            }
            if (!Files.exists(staging.resolve("tokenizer_config.json"))) {
                Gpt2TokenizerBuilder.writeCompanionFiles(staging);
            }
            truncationSide.writeTo(staging);
            state.write(staging);
            Files.writeString(staging.resolve(ARGS_FILE), TrainerState.JSON.writeValueAsString(args));
            return staging;
        } catch (IOException | RuntimeException e) {
            deleteTree(staging);
            throw e;
        }
    }

    static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }
}
