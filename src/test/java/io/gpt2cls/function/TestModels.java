package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import io.gpt2cls.cli.Main;
import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.model.TestPaths;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.training.FinetuneJob;
import io.gpt2cls.training.TrainingArguments;

/** Artifacts shared by the function tests: the shipped e2e messages, prepared once and trained once. */
public final class TestModels {

    public static final Path MESSAGES = TestPaths.resource("e2e/messages.jsonl");
    /** A system property, not a static field: Quarkus tests load this class in more than one classloader. */
    private static final String WORK_PROPERTY = "gpt2cls-test.work";

    private TestModels() {}

    static Path work() {
        synchronized (System.class) {
            if (System.getProperty(WORK_PROPERTY) == null) {
                try {
                    System.setProperty(WORK_PROPERTY, Files.createTempDirectory("gpt2cls-test-").toString());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
            return Path.of(System.getProperty(WORK_PROPERTY));
        }
    }

    /** Where {@link #trainedModel()} puts the model; computing it loads no native library. */
    public static Path trainedModelDir() {
        return work().resolve("model");
    }

    public static synchronized Path tokenizer() throws IOException {
        Path file = work().resolve("tokenizer/tokenizer.json");
        return Files.exists(file) ? file : Gpt2TokenizerBuilder.writeTo(file.getParent());
    }

    public static synchronized Path preparedDataset() throws IOException {
        Path dir = work().resolve("dataset");
        if (!Files.exists(dir.resolve("manifest.json"))) {
            PrepareSpec spec = new PrepareSpec();
            spec.trainFiles = List.of(InputFile.local(MESSAGES));
            spec.tokenizer = tokenizer();
            spec.outputDir = dir;
            spec.maxLength = 128;
            spec.testFraction = 0.25;
            new DatasetPreparer().prepare(spec);
        }
        return dir;
    }

    /** A tiny GPT-2 fine-tuned for a few updates on the messages: a real checkpoint, not a good model. */
    public static synchronized Path trainedModel() {
        Path dir = trainedModelDir();
        try {
            if (!Files.exists(dir.resolve("model.safetensors"))) {
                TrainingArguments args = new TrainingArguments();
                args.learning_rate = 1e-3;
                args.max_steps = 6;
                args.logging_steps = 2;
                FinetuneJob.run(new FinetuneJob.Spec(preparedDataset(), null, "tiny", tokenizer(), Location.of(dir), args, 1), new LocalStore());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return dir;
    }

    /**
     * A fresh tiny GPT-2 (random weights from {@code seed}) with GPT-2's tokenizer files, written to
     * {@code dir}: models that differ by seed give different probabilities, which is all some tests need.
     */
    public static Path randomTinyModel(Path dir, long seed, List<String> labels) throws IOException {
        Main.writeFreshModel(ModelPreset.TINY, labels, seed, dir);
        return dir;
    }
}
