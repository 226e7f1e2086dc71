package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.training.ClassificationMetrics;
import io.gpt2cls.training.FinetuneJob;
import io.gpt2cls.training.Trainer;

@ApplicationScoped
public class FinetuneService {

    static final String MODELS = "models";

    @Inject
    ArtifactStore store;

    public FinetuneResponse finetune(FinetuneRequest request) {
        StrictRequest.requireValid(request);
        try {
            request.training.validate();
            if (request.baseModel == null) {
                ModelPreset.byId(request.preset);
            }
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException(null, e.getMessage());
        }
        StrictRequest.requireField(request.dataset, "dataset", "the location of a prepared dataset (prepare's output)");
        Location dataset = datasetLocation(request.dataset);
        try {
            Location output = request.output != null ? Location.parse(request.output) : conventionalOutput(dataset);
            // Hours of training must not end in "cannot write the output": try it first.
            try (ArtifactStore.Staging probe = store.stage(output, ModelCheckpoint.CONFIG_FILE)) {
                // discarded unused
            }
            FinetuneJob.Spec spec = new FinetuneJob.Spec(
                    store.fetchSet(dataset, Manifest.FILE),
                    request.baseModel == null ? null : store.fetchSet(Location.parse(request.baseModel), ModelCheckpoint.CONFIG_FILE),
                    request.preset,
                    request.tokenizer == null ? null : Tokenizers.fetch(store, request.tokenizer),
                    output,
                    request.training,
                    request.initSeed);
            Trainer.Result result = FinetuneJob.run(spec, store);
            return response(output.toString(), result);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
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

    private static FinetuneResponse response(String output, Trainer.Result result) {
        FinetuneResponse response = new FinetuneResponse();
        response.output = output;
        response.globalStep = result.state().global_step;
        response.epoch = result.state().epoch;
        response.trainLoss = result.trainLoss();
        response.trainRuntimeSeconds = result.runtime().toMillis() / 1000.0;
        response.trainSamplesPerSecond = result.samplesPerSecond();
        response.trainTokensPerSecond = result.tokensPerSecond();
        response.bestModelCheckpoint = result.state().best_model_checkpoint;
        response.bestMetric = result.state().best_metric;
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
