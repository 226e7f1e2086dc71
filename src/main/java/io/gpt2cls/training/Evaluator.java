package io.gpt2cls.training;

import java.util.List;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2ForSequenceClassification;

/** Runs the model over labelled rows without dropout and scores the predictions. */
public final class Evaluator {

    private Evaluator() {}

    public static ClassificationMetrics evaluate(Gpt2ForSequenceClassification model, LabeledSequences data, int batchSize) {
        int[] actual = new int[data.size()];
        int[] predicted = new int[data.size()];
        double lossSum = 0;
        int padId = model.config.pad_token_id;
        for (int[] rows : BatchPlan.evaluation(data, batchSize)) {
            float[][] probabilities;
            try (NDManager step = model.manager().newSubManager()) {
                probabilities = model.probabilities(BatchPlan.batch(data, rows, padId), step);
            }
            for (int i = 0; i < rows.length; i++) {
                int label = data.label(rows[i]);
                actual[rows[i]] = label;
                predicted[rows[i]] = argmax(probabilities[i]);
                lossSum -= Math.log(Math.max(probabilities[i][label], Float.MIN_NORMAL));
            }
        }
        List<String> labels = model.config.labels();
        return ClassificationMetrics.compute(actual, predicted, data.size() == 0 ? 0 : lossSum / data.size(), labels);
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
