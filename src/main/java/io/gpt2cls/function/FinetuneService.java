package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.GracefulStop;
import io.gpt2cls.runtime.SpotInterruptionWatcher;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.PublishConflictException;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.training.ClassificationMetrics;
import io.gpt2cls.training.FinetuneJob;
import io.gpt2cls.training.Trainer;
import io.quarkus.runtime.ShutdownEvent;

@ApplicationScoped
public class FinetuneService {

    private static final Logger LOG = Logger.getLogger(FinetuneService.class);

    static final String MODELS = "models";
    /** The lease a job holds on its output while it runs: {@code .run.lease} in S3, {@code .<name>.run.lock} locally. */
    static final String RUN_LEASE = "run";
    static final String ALREADY_RUNNING = "already_running";

    @Inject
    ArtifactStore store;

    @Inject
    AppConfig config;

    @Inject
    BaseModels baseModels;

    public FinetuneResponse finetune(FinetuneRequest given) {
        StrictRequest.requireValid(given);
        StrictRequest.requireField(given.dataset, "dataset", "the location of a prepared dataset (prepare's output)");
        Location dataset = datasetLocation(given.dataset);
        try {
            Path prepared = store.fetchSet(dataset, Manifest.FILE);
            FinetuneRequest request = given;
            String recipe = null;
            if (Files.exists(prepared.resolve(FinetuneRecipe.FILE))) {
                recipe = dataset.resolve(FinetuneRecipe.FILE).toString();
                request = FinetuneRecipe.apply(FinetuneRecipe.read(prepared.resolve(FinetuneRecipe.FILE), recipe), given);
                LOG.infof("training recipe %s: the fields this request leaves out come from it", recipe);
            }
            validate(request);
            Location output = request.output != null ? Location.parse(request.output) : conventionalOutput(dataset);
            String job = jobName(dataset, prepared);
            ArtifactStore.Lease run;
            try {
                run = store.lease(output, RUN_LEASE, job, System.getenv("AWS_BATCH_JOB_ID"));
            } catch (PublishConflictException busy) {
                if (busy.holder().map(holder -> job.equals(holder.purpose())).orElse(false)) {
                    LOG.infof("%s is already running (%s): nothing to do", job, busy.holder().get().describe());
                    return alreadyRunning(output, job, busy.holder().get().describe());
                }
                throw busy;
            }
            try (run) {
                FinetuneResponse response = train(request, prepared, output);
                response.finetuneRecipe = recipe;
                response.job = job;
                return response;
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * The job's name: the dataset and its version (its manifest's SHA-256). A job holds the output's run
     * lease under it, so a second job for the same dataset version finds the first and does nothing.
     */
    static String jobName(Location dataset, Path prepared) throws IOException {
        String version = TextTokenizer.sha256(Files.readAllBytes(prepared.resolve(Manifest.FILE)));
        return "finetune of " + dataset + " version " + version.substring(0, 12);
    }

    private static FinetuneResponse alreadyRunning(Location output, String job, String holder) {
        FinetuneResponse response = new FinetuneResponse();
        response.status = ALREADY_RUNNING;
        response.output = output.toString();
        response.job = job;
        response.heldBy = holder;
        return response;
    }

    private FinetuneResponse train(FinetuneRequest request, Path prepared, Location output) throws IOException {
        // Hours of training must not end in "cannot write the output": try it first.
        try (ArtifactStore.Staging probe = store.stage(output, ModelCheckpoint.CONFIG_FILE)) {
            // discarded unused
        }
        GracefulStop.setDeadline(config.finetune().stopDeadline());
        BaseModels.Source base = request.baseModel == null ? null : baseModels.resolve(request.baseModel, "base_model", output);
        BaseModels.Source tokenizer = request.tokenizer == null ? null : baseModels.resolve(request.tokenizer, "tokenizer", output);
        FinetuneJob.Spec spec = new FinetuneJob.Spec(
                prepared,
                base == null ? null : store.fetchSet(base.location(), ModelCheckpoint.CONFIG_FILE),
                request.preset,
                tokenizer == null ? null : Tokenizers.fetch(store, tokenizer.location()),
                output,
                request.training,
                request.initSeed,
                // as the user named it: a retry after the Hub's main moved is still the same run (the commit is recorded apart)
                base == null ? null : base.fromHub() ? request.baseModel.strip() : base.location().toString(),
                request.resumeFromCheckpoint,
                config.finetune().jsonLogs().orElse(onAws()));
        try (SpotInterruptionWatcher spot = watchForSpotNotice()) {
            return response(FinetuneJob.run(spec, store));
        }
    }

    /** A spot interruption notice stops training as SIGTERM does (null: not watching). */
    private SpotInterruptionWatcher watchForSpotNotice() {
        AppConfig.Finetune.SpotNotice settings = config.finetune().spotNotice();
        return !settings.enabled() ? null : SpotInterruptionWatcher.endpoint(settings.endpoint())
                .map(endpoint -> SpotInterruptionWatcher.start(endpoint, settings.pollInterval(), GracefulStop::request))
                .orElse(null);
    }

    private static void validate(FinetuneRequest request) {
        try {
            request.training.validate();
            if (request.baseModel == null) {
                ModelPreset.byId(request.preset);
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(null, e.getMessage());
        }
    }

    /**
     * On SIGTERM Quarkus stops the application (and its beans, the store among them) while training
     * may still be under way: hold the stop until training has published its checkpoint.
     */
    void onShutdown(@Observes ShutdownEvent event) {
        GracefulStop.stopAndAwait();
    }

    /** AWS Batch and Lambda set these in every job and function; their logs go to CloudWatch. */
    private static boolean onAws() {
        return System.getenv("AWS_BATCH_JOB_ID") != null || System.getenv("AWS_LAMBDA_FUNCTION_NAME") != null;
    }

    /** A dataset is named by its directory or by its manifest.json (what an upload event announces). */
    static Location datasetLocation(String location) {
        Location dataset = Location.parse(location);
        return dataset.name().equals(Manifest.FILE) ? dataset.parent() : dataset;
    }

    /** Without an output, {@code <root>/prepared/<name>} trains into {@code <root>/models/<name>}. */
    static Location conventionalOutput(Location dataset) {
        Location prepared = dataset.parent();
        if (!prepared.name().equals(PrepareTrigger.PREPARED) || prepared.parent().equals(prepared)) {
            throw new InvalidRequestException("output", "field 'output' is required: where checkpoints and the final model go"
                    + " (it may be left out only for a dataset under prepared/<name>/, which trains into models/<name>/)");
        }
        return prepared.parent().resolve(MODELS + "/" + dataset.name());
    }

    private static FinetuneResponse response(FinetuneJob.Outcome outcome) {
        Trainer.Result result = outcome.result();
        FinetuneResponse response = new FinetuneResponse();
        response.status = result.status().name().toLowerCase(java.util.Locale.ROOT);
        response.output = result.output().toString();
        response.globalStep = result.state().global_step;
        response.epoch = result.state().epoch;
        response.trainLoss = result.trainLoss();
        response.trainRuntimeSeconds = result.runtime().toMillis() / 1000.0;
        response.trainSamplesPerSecond = result.samplesPerSecond();
        response.trainTokensPerSecond = result.tokensPerSecond();
        response.bestModelCheckpoint = result.state().best_model_checkpoint;
        response.bestMetric = result.state().best_metric;
        response.finalModelStep = result.finalModelStep();
        response.stoppedEarly = result.status() == Trainer.Status.STOPPED ? null : result.state().global_step < result.state().max_steps;
        response.resumedFromCheckpoint = outcome.resumedFrom() == null ? null : outcome.resumedFrom().toString();
        response.checkpoint = result.checkpoint() == null ? null : result.checkpoint().toString();
        response.checkpoints = outcome.checkpoints().stream().map(Location::toString).toList();
        response.report = outcome.report() == null ? null : outcome.report().toString();
        response.timings = result.timings() == null ? null : result.timings().asMap();
        ClassificationMetrics metrics = result.finalMetrics();
        if (metrics != null) {
            FinetuneResponse.Evaluation eval = new FinetuneResponse.Evaluation();
            eval.loss = metrics.loss();
            eval.accuracy = metrics.accuracy();
            eval.macroF1 = metrics.macroF1();
            eval.labels = metrics.labels();
            eval.confusionMatrix = metrics.confusion();
            eval.perClass = new LinkedHashMap<>();
            for (ClassificationMetrics.PerClass c : metrics.perClass()) {
                eval.perClass.put(c.label(), Map.of("precision", c.precision(), "recall", c.recall(), "f1", c.f1(),
                        "support", (double) c.support()));
            }
            response.eval = eval;
        }
        return response;
    }
}
