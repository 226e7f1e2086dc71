package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code all_results.json} beside the final model (the file Hugging Face's {@code save_metrics}
 * writes): how training went and the final model's evaluation in full, confusion matrix included.
 * A finished run asked for again is answered from it instead of being trained a second time.
 *
 * @param finalModelStep the step whose weights the final model has
 * @param timings seconds per part of training (forward, backward, optimizer, evaluation, checkpoints) in the last process
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record AllResults(int globalStep, double epoch, double trainLoss, double trainRuntime, double trainSamplesPerSecond,
                         double trainTokensPerSecond, int finalModelStep, Map<String, Double> timings, ClassificationMetrics eval) {

    public static final String FILE = "all_results.json";

    static AllResults of(Trainer.Result result) {
        return new AllResults(result.state().global_step, result.state().epoch, result.trainLoss(),
                Trainer.round(result.runtime().toNanos() / 1e9), Trainer.round(result.samplesPerSecond()),
                Trainer.round(result.tokensPerSecond()), result.finalModelStep(), result.timings().asMap(), result.finalMetrics());
    }

    void write(Path dir) throws IOException {
        TrainerState.JSON.writeValue(dir.resolve(FILE).toFile(), this);
    }

    public static AllResults read(Path dir) throws IOException {
        return TrainerState.JSON.readValue(dir.resolve(FILE).toFile(), AllResults.class);
    }
}
