package io.gpt2cls.training;

import java.util.List;
import java.util.Optional;
import java.util.function.BooleanSupplier;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2ForSequenceClassification;

/** Runs the model over labelled rows without dropout and scores the predictions. */
public final class Evaluator {

    private Evaluator() {}

    /**
     * One evaluation: each row's label probabilities, in the rows' own order (a prepared test split
     * keeps the order of its accepted source rows), and the metrics they score to. Serving the saved
     * model on the same texts gives the same probabilities.
     */
    public record Evaluation(float[][] probabilities, ClassificationMetrics metrics) {

        /** The label id predicted for {@code row}: the most probable one. */
        public int predicted(int row) {
            return argmax(probabilities[row]);
        }
    }

    public static Evaluation evaluate(Gpt2ForSequenceClassification model, LabeledSequences data, int batchSize) {
        return evaluate(model, data, batchSize, () -> false).orElseThrow();
    }

    /**
     * An evaluation that gives up, between batches, once {@code stopRequested} turns true (a whole
     * test split can take longer than a stop may): empty when it did.
     */
    public static Optional<Evaluation> evaluate(Gpt2ForSequenceClassification model, LabeledSequences data, int batchSize,
                                                BooleanSupplier stopRequested) {
        int[] actual = new int[data.size()];
        int[] predicted = new int[data.size()];
        float[][] probabilities = new float[data.size()][];
        double lossSum = 0;
        int padId = model.config.pad_token_id;
        for (int[] rows : BatchPlan.evaluation(data, batchSize)) {
            if (stopRequested.getAsBoolean()) {
                return Optional.empty();
            }
            float[][] batch;
            try (NDManager step = model.manager().newSubManager()) {
                batch = model.probabilities(BatchPlan.batch(data, rows, padId), step);
            }
            for (int i = 0; i < rows.length; i++) {
                int label = data.label(rows[i]);
                probabilities[rows[i]] = batch[i];
                actual[rows[i]] = label;
                predicted[rows[i]] = argmax(batch[i]);
                lossSum -= Math.log(Math.max(batch[i][label], Float.MIN_NORMAL));
            }
        }
        List<String> labels = model.config.labels();
        double loss = data.size() == 0 ? 0 : lossSum / data.size();
        return Optional.of(new Evaluation(probabilities, ClassificationMetrics.compute(actual, predicted, loss, labels)));
    }

    private static int argmax(float[] values) {
        int best = 0;
        for (int i = 1; i < values.length; i++) {
            if (values[i] > values[best]) {
                best = i;
            }
        }
        return best;
    }
}
