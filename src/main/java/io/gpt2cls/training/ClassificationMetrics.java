package io.gpt2cls.training;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Accuracy, macro-F1, per-class precision/recall/F1 and the confusion matrix (rows = true label,
 * columns = predicted), with label names. Precision or recall of a class never predicted / never
 * present is 0, as scikit-learn reports it with zero_division=0.
 */
public record ClassificationMetrics(
        List<String> labels, double loss, double accuracy, double macroF1, List<PerClass> perClass, long[][] confusion) {

    public record PerClass(String label, double precision, double recall, double f1, long support) {}

    public static ClassificationMetrics compute(int[] actual, int[] predicted, double loss, List<String> labels) {
        int k = labels.size();
        long[][] confusion = new long[k][k];
        long correct = 0;
        for (int i = 0; i < actual.length; i++) {
            confusion[actual[i]][predicted[i]]++;
            if (actual[i] == predicted[i]) {
                correct++;
            }
        }
        List<PerClass> perClass = new ArrayList<>();
        double f1Sum = 0;
        for (int c = 0; c < k; c++) {
            long truePositive = confusion[c][c];
            long predictedCount = 0;
            long support = 0;
            for (int j = 0; j < k; j++) {
                predictedCount += confusion[j][c];
                support += confusion[c][j];
            }
            double precision = predictedCount == 0 ? 0 : (double) truePositive / predictedCount;
            double recall = support == 0 ? 0 : (double) truePositive / support;
            double f1 = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
            f1Sum += f1;
            perClass.add(new PerClass(labels.get(c), precision, recall, f1, support));
        }
        double accuracy = actual.length == 0 ? 0 : (double) correct / actual.length;
        return new ClassificationMetrics(labels, loss, accuracy, f1Sum / k, perClass, confusion);
    }

    /** The eval entry of Hugging Face's log_history: eval_loss, eval_accuracy, eval_macro_f1, per class F1. */
    public Map<String, Object> asLogEntry() {
        Map<String, Object> entry = new LinkedHashMap<>();
        entry.put("eval_loss", loss);
        entry.put("eval_accuracy", accuracy);
        entry.put("eval_macro_f1", macroF1);
        for (PerClass c : perClass) {
            entry.put("eval_f1_" + c.label(), c.f1());
        }
        return entry;
    }

    public double metric(String name) {
        Object value = asLogEntry().get(name);
        if (value == null) {
            throw new IllegalArgumentException("metric_for_best_model '" + name + "' is not one of " + asLogEntry().keySet());
        }
        return (Double) value;
    }

    /** A table a person reads in a log: per-class rows, then the confusion matrix. */
    public String table() {
        int width = Math.max(9, labels.stream().mapToInt(String::length).max().orElse(0) + 2);
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("%-" + width + "s %9s %9s %9s %9s%n", "label", "precision", "recall", "f1", "support"));
        for (PerClass c : perClass) {
            sb.append(String.format("%-" + width + "s %9.4f %9.4f %9.4f %9d%n", c.label(), c.precision(), c.recall(), c.f1(), c.support()));
        }
        long total = perClass.stream().mapToLong(PerClass::support).sum();
        sb.append(String.format("%-" + width + "s %9s %9s %9.4f %9d%n", "macro avg", "", "", macroF1, total));
        sb.append(String.format("accuracy %.4f   loss %.4f%n", accuracy, loss));
        sb.append(String.format("confusion (rows = true, columns = predicted)%n%-" + width + "s", ""));
        for (String label : labels) {
            sb.append(String.format(" %" + width + "s", label));
        }
        sb.append(System.lineSeparator());
        for (int i = 0; i < labels.size(); i++) {
            sb.append(String.format("%-" + width + "s", labels.get(i)));
            for (int j = 0; j < labels.size(); j++) {
                sb.append(String.format(" %" + width + "d", confusion[i][j]));
            }
            sb.append(System.lineSeparator());
        }
        return sb.toString();
    }
}
