package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.jboss.logging.Logger;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.dataset.TokenizedDataset;
import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TokenizerFiles;
import io.gpt2cls.tokenizer.Truncation;
import io.gpt2cls.tokenizer.TruncationSide;

/**
 * One fine-tuning run: a prepared dataset + a base checkpoint (or a preset, from scratch) ->
 * checkpoints and a final model in the Hugging Face layout.
 */
public final class FinetuneJob {

    private static final Logger LOG = Logger.getLogger(FinetuneJob.class);

    /**
     * @param baseModel a checkpoint directory to start from, or null to start from {@code preset}
     * @param preset a {@link ModelPreset} id, used when baseModel is null
     * @param tokenizer the tokenizer.json to ship with a preset model; null means GPT-2's
     */
    public record Spec(Path dataset, Path baseModel, String preset, Path tokenizer, Location output, TrainingArguments args, long initSeed) {}

    private FinetuneJob() {}

    /** Trains, publishing checkpoints and the final model at {@code spec.output()} through {@code store}. */
    public static Trainer.Result run(Spec spec, ArtifactStore store) throws IOException {
        NativeRuntime.init();
        TokenizedDataset dataset = TokenizedDataset.open(spec.dataset());
        List<String> labels = dataset.labels();
        Path tokenizerFile = tokenizerFile(spec);
        String modelTokenizerHash = TextTokenizer.sha256(Files.readAllBytes(tokenizerFile));
        if (!modelTokenizerHash.equals(dataset.tokenizerSha256())) {
            throw new TrainingException("dataset " + spec.dataset() + " was tokenized with a different tokenizer (sha256 "
                    + abbreviate(dataset.tokenizerSha256()) + ") than the model's " + tokenizerFile + " (sha256 "
                    + abbreviate(modelTokenizerHash) + "); run prepare again with the model's tokenizer");
        }
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = initialModel(spec, labels, root)) {
            Truncation truncation = new Truncation(dataset.manifest().maxLength(),
                    TruncationSide.parse(dataset.manifest().truncationSide()));
            if (truncation.maxLength() > model.config.n_positions) {
                throw new TrainingException("dataset " + spec.dataset() + " was prepared with max_length " + truncation.maxLength()
                        + " but the model has n_positions " + model.config.n_positions + "; prepare again with max_length <= "
                        + model.config.n_positions);
            }
            // an id past the embedding table would fail deep inside libtorch; name the shard and row instead
            dataset.requireTokenIdsBelow(model.config.vocab_size);
            LabeledSequences train = dataset.split(Manifest.TRAIN);
            Manifest.SplitStats test = dataset.manifest().splits().get(Manifest.TEST);
            LabeledSequences eval = test != null && test.rows() > 0 ? dataset.split(Manifest.TEST) : null;
            // The checkpoint's tokenizer cuts texts as the dataset was cut, so classify sees what training saw.
            TokenizerFiles tokenizerFiles = TokenizerFiles.forModel(tokenizerFile, model.config.pad_token_id, truncation);
            return new Trainer(model, spec.args(), train, eval, new CheckpointWriter(store, spec.output(), tokenizerFiles)).train();
        }
    }

    private static Gpt2ForSequenceClassification initialModel(Spec spec, List<String> labels, NDManager root) throws IOException {
        if (spec.baseModel() != null) {
            LOG.infof("fine-tuning %s for labels %s", spec.baseModel(), labels);
            Gpt2ForSequenceClassification model = ModelCheckpoint.load(spec.baseModel(), root, labels);
            if (model.config.pad_token_id == null) {
                choosePadToken(model.config, spec.baseModel());
            }
            return model;
        }
        ModelPreset preset = ModelPreset.byId(spec.preset() == null ? "tiny" : spec.preset());
        Gpt2Config config = preset.config(labels);
        LOG.infof("training a fresh %s GPT-2 (%d layers, %d heads, width %d) for labels %s",
                preset.id, config.n_layer, config.n_head, config.n_embd, labels);
        return Gpt2ForSequenceClassification.randomInit(config, root, spec.initSeed());
    }

    /**
     * Batches need a pad id and a base model (a Hub GPT-2) may have none: pad with its end-of-text
     * token, as GPT-2 fine-tuning recipes do, and say so; the checkpoint records the choice.
     */
    private static void choosePadToken(Gpt2Config config, Path baseModel) {
        if (config.eos_token_id == null) {
            throw new TrainingException(baseModel.resolve(ModelCheckpoint.CONFIG_FILE) + " has neither pad_token_id nor"
                    + " eos_token_id; set pad_token_id to the id of the token batches are padded with");
        }
        config.pad_token_id = config.eos_token_id;
        LOG.warnf("%s has no pad_token_id: padding with eos_token_id %d, and writing pad_token_id %d into the checkpoint",
                baseModel.resolve(ModelCheckpoint.CONFIG_FILE), config.eos_token_id, config.pad_token_id);
    }

    private static Path tokenizerFile(Spec spec) throws IOException {
        if (spec.baseModel() != null) {
            Path file = spec.baseModel().resolve(TextTokenizer.TOKENIZER_FILE);
            if (!Files.exists(file)) {
                throw new TrainingException("base model " + spec.baseModel() + " has no tokenizer.json; copy the model's"
                        + " tokenizer.json next to its config.json (GPT-2's: 'tokenizer gpt2 --out DIR')");
            }
            return file;
        }
        if (spec.tokenizer() != null) {
            return TextTokenizer.fileOf(spec.tokenizer());
        }
        return Gpt2TokenizerBuilder.cached();
    }

    private static String abbreviate(String hash) {
        return hash == null ? "none" : hash.substring(0, Math.min(12, hash.length()));
    }
}
