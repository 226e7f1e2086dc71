package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import org.jboss.logging.Logger;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.engine.StandardCapabilities;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.util.cuda.CudaUtils;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.dataset.TokenizedDataset;
import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.HubRevision;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.GracefulStop;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TokenizerFingerprint;
import io.gpt2cls.tokenizer.TokenizerFiles;
import io.gpt2cls.tokenizer.Truncation;
import io.gpt2cls.tokenizer.TruncationSide;

/**
 * One fine-tuning run: a prepared dataset + a base checkpoint (or a preset, from scratch) ->
 * checkpoints and a final model in the Hugging Face layout, with {@code report.html} beside it.
 *
 * <p>It is resumable: sent again after a crash, a spot reclaim or a SIGTERM, the same request
 * continues from the newest complete checkpoint of the same run, and a finished run is answered
 * from its {@code all_results.json} ({@link ResumePlan}). A stop request ({@link GracefulStop})
 * ends it after a published checkpoint, with {@link Trainer.Status#STOPPED}.
 */
public final class FinetuneJob {

    private static final Logger LOG = Logger.getLogger(FinetuneJob.class);

    /**
     * @param baseModel a checkpoint directory to start from, or null to start from {@code preset}
     * @param preset a {@link ModelPreset} id, used when baseModel is null
     * @param tokenizer the tokenizer.json to ship with a preset model; null means GPT-2's
     * @param baseModelLocation the base model as the user named it (the run's identity records it), or null
     * @param jsonLogs also log one JSON line per log entry ({@link JsonLogCallback})
     */
    public record Spec(Path dataset, Path baseModel, String preset, Path tokenizer, Location output, TrainingArguments args,
                       long initSeed, String baseModelLocation, ResumeFrom resume, boolean jsonLogs) {

        /** A run from local files, resumed automatically, without JSON log lines. */
        public Spec(Path dataset, Path baseModel, String preset, Path tokenizer, Location output, TrainingArguments args, long initSeed) {
            this(dataset, baseModel, preset, tokenizer, output, args, initSeed, baseModel == null ? null : baseModel.toString(),
                    ResumeFrom.AUTO, false);
        }
    }

    /**
     * @param resumedFrom the checkpoint this run continued, or null
     * @param checkpoints the checkpoints under the output at the end, oldest first
     * @param report the training report, or null when stopped
     */
    public record Outcome(Trainer.Result result, Location resumedFrom, List<Location> checkpoints, Location report) {}

    private FinetuneJob() {}

    /** Trains (or resumes, or finds the run finished), publishing checkpoints and the final model at {@code spec.output()}. */
    public static Outcome run(Spec spec, ArtifactStore store) throws IOException {
        NativeRuntime.init();
        try (GracefulStop.Scope scope = GracefulStop.enter()) {
            logDevice();
            TokenizedDataset dataset = TokenizedDataset.open(spec.dataset());
            List<String> labels = dataset.labels();
            Path tokenizerFile = tokenizerFile(spec);
            TokenizerFingerprint tokenizer = requireDatasetTokenizer(spec, dataset, tokenizerFile);
            RunIdentity identity = RunIdentity.of(TextTokenizer.sha256(Files.readAllBytes(spec.dataset().resolve(Manifest.FILE))),
                    modelSource(spec), spec.args());
            ResumePlan plan = ResumePlan.decide(store, spec.output(), spec.resume(), identity);
            if (plan.action() == ResumePlan.Action.ALREADY_COMPLETED) {
                return alreadyCompleted(spec, store);
            }
            for (Location stale : plan.checkpointsToDelete()) {
                store.deleteSet(stale, ModelCheckpoint.CONFIG_FILE);
                LOG.infof("removed %s: it belongs to a run this request replaces", stale);
            }
            Path resumeDir = null;
            if (plan.checkpoint() != null) {
                LOG.infof("resuming from %s", plan.checkpoint());
                resumeDir = store.fetchSet(plan.checkpoint(), ModelCheckpoint.CONFIG_FILE);
            }
            try (NDManager root = NDManager.newBaseManager();
                 Gpt2ForSequenceClassification model = resumeDir != null ? ModelCheckpoint.load(resumeDir, root, labels)
                         : initialModel(spec, labels, root)) {
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
                CheckpointPublisher publisher = new CheckpointPublisher(store, spec.output(), tokenizerFiles, spec.args().save_total_limit);
                Trainer trainer = new Trainer(model, spec.args(), train, eval)
                        .savingTo(store, spec.output())
                        .identifiedBy(identity.datasetSha256(), identity.modelSource())
                        .startedFrom(hubRevision(spec), tokenizer.sha256())
                        .stopWhen(GracefulStop::requested);
                if (spec.args().early_stopping_patience != null) {
                    trainer.addCallback(new EarlyStoppingCallback(spec.args()));
                }
                if (spec.jsonLogs()) {
                    trainer.addCallback(new JsonLogCallback(spec.output()));
                }
                trainer.addCallback(new TrainingReport(spec.args(), dataset.manifest(), store, spec.output()))
                        .addCallback(publisher); // last: the report goes into the final model's set before it is published
                Trainer.Result result = trainer.train(resumeDir);
                return new Outcome(result, plan.checkpoint(), CheckpointPublisher.checkpoints(store, spec.output()),
                        result.status() == Trainer.Status.COMPLETED ? spec.output().resolve(TrainingReport.FILE) : null);
            }
        }
    }

    /** The answer to a finished run sent again: what its final model's files say, nothing trained. */
    private static Outcome alreadyCompleted(Spec spec, ArtifactStore store) throws IOException {
        Path finalModel = store.fetchSet(spec.output(), ModelCheckpoint.CONFIG_FILE);
        AllResults results = AllResults.read(finalModel);
        LOG.infof("%s already holds this run's final model (%d updates; the weights of step %d): nothing to train; send"
                + " resume_from_checkpoint false to train it again", spec.output(), results.globalStep(), results.finalModelStep());
        Trainer.Result result = new Trainer.Result(Trainer.Status.ALREADY_COMPLETED, TrainerState.read(finalModel),
                results.trainLoss(), Duration.ofMillis(Math.round(results.trainRuntime() * 1000)), results.trainSamplesPerSecond(),
                results.trainTokensPerSecond(), null, null, results.eval(), results.finalModelStep(), spec.output(), null);
        return new Outcome(result, null, CheckpointPublisher.checkpoints(store, spec.output()),
                spec.output().resolve(TrainingReport.FILE));
    }

    /**
     * The dataset's ids must mean the model's tokens: the tokenizers are compared by what they do
     * ({@link TokenizerFingerprint}), so GPT-2's built-in tokenizer and a Hub GPT-2's own file are the
     * same. A manifest from before fingerprints is compared by the file's SHA-256, as it was then.
     */
    private static TokenizerFingerprint requireDatasetTokenizer(Spec spec, TokenizedDataset dataset, Path tokenizerFile)
            throws IOException {
        TokenizerFingerprint model = TokenizerFingerprint.of(tokenizerFile);
        Manifest.TokenizerInfo recorded = dataset.manifest().tokenizer();
        String modelTokenizer = spec.baseModel() != null ? "base model " + spec.baseModelLocation() + "'s tokenizer.json" : tokenizerFile.toString();
        if (recorded.fingerprint() == null) {
            String modelTokenizerHash = TextTokenizer.sha256(Files.readAllBytes(tokenizerFile));
            if (!modelTokenizerHash.equals(recorded.sha256())) {
                throw new TrainingException("dataset " + spec.dataset() + " was tokenized with a different tokenizer (sha256 "
                        + abbreviate(recorded.sha256()) + ", and its manifest predates tokenizer fingerprints) than the "
                        + modelTokenizer + " (sha256 " + abbreviate(modelTokenizerHash) + "); run prepare again with the model's tokenizer");
            }
            return model;
        }
        List<String> differing = model.differencesFrom(recorded.fingerprint());
        if (!differing.isEmpty()) {
            throw new TrainingException("dataset " + spec.dataset() + " was tokenized with a different tokenizer (" + recorded.file()
                    + ", fingerprint " + abbreviate(recorded.fingerprint().sha256()) + ") than the " + modelTokenizer + " (fingerprint "
                    + abbreviate(model.sha256()) + "): they differ in " + String.join(", ", differing)
                    + "; run prepare again with the model's tokenizer");
        }
        return model;
    }

    /** {@code id@commit} of a base model fetched from the Hub, or null. */
    private static String hubRevision(Spec spec) throws IOException {
        return spec.baseModel() == null ? null : HubRevision.readFrom(spec.baseModel()).map(HubRevision::pinned).orElse(null);
    }

    /** Where the weights come from at step 0, in the user's terms. */
    private static String modelSource(Spec spec) {
        return spec.baseModel() != null ? "base_model " + spec.baseModelLocation()
                : "preset " + (spec.preset() == null ? "tiny" : spec.preset()) + ", init_seed " + spec.initSeed();
    }

    /** The device, the libtorch build and its threads: what a GPU job must show it got. */
    private static void logDevice() {
        Engine engine = Engine.getInstance();
        Device device = engine.defaultDevice();
        String gpu = "";
        if (device.isGpu()) {
            gpu = String.format(" (%d GPU(s), compute capability %s, %d MiB), CUDA %s", CudaUtils.getGpuCount(),
                    CudaUtils.getComputeCapability(device.getDeviceId()),
                    CudaUtils.getGpuMemory(device).getMax() >> 20, CudaUtils.getCudaVersionString());
        }
        LOG.infof("device %s%s; %s %s; %d intra-op and %d inter-op threads; %d CPUs available", device, gpu,
                engine.getEngineName(), engine.getVersion(), JniUtils.getNumThreads(), JniUtils.getNumInteropThreads(),
                Runtime.getRuntime().availableProcessors());
        if (!device.isGpu() && engine.hasCapability(StandardCapabilities.CUDA)) {
            LOG.warnf("libtorch is a CUDA build but DJL found no GPU, so this trains on the CPU: DJL counts GPUs through"
                    + " libcudart, loaded from -Djna.library.path (in the GPU image: the torch wheel's nvidia/cuda_runtime/lib)");
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
