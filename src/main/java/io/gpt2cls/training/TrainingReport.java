package io.gpt2cls.training;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;

/**
 * Writes {@code report.html} into the final model's set ({@link #onSave} of the final model, before
 * it is published): a single self-contained page (Chart.js inlined from its WebJar, the data as
 * JSON inside the page) that opens from S3 or a disk with no network. It shows the loss curves
 * (train and eval), accuracy and macro-F1 per evaluation, the learning rate, the final model's
 * confusion matrix and per-class scores, throughput and where the time went, the hyperparameters,
 * the dataset as its manifest describes it (counts, token lengths, leakage), and every checkpoint.
 */
public final class TrainingReport implements TrainerCallback {

    public static final String FILE = "report.html";
    /** The Chart.js build in the WebJar (pom.xml: chartjs.version). */
    static final String CHART_JS = "META-INF/resources/webjars/chart.js/4.4.1/dist/chart.umd.js";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final TrainingArguments args;
    private final Manifest manifest;
    private final ArtifactStore store;
    private final Location output;

    public TrainingReport(TrainingArguments args, Manifest manifest, ArtifactStore store, Location output) {
        this.args = args;
        this.manifest = manifest;
        this.store = store;
        this.output = output;
    }

    @Override
    public void onSave(TrainerState state, Saved saved) throws IOException {
        if (saved.finalModel()) {
            AllResults results = AllResults.read(saved.dir());
            Files.writeString(saved.dir().resolve(FILE), html(state, results, CheckpointPublisher.checkpoints(store, output)));
        }
    }

    String html(TrainerState state, AllResults results, List<Location> checkpoints) throws IOException {
        StringBuilder page = new StringBuilder();
        page.append("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>Training report: ")
                .append(escape(output.toString())).append("</title>\n<style>\n").append(STYLE).append("</style>\n</head><body>\n");
        page.append("<h1>Training report</h1>\n<p class=\"where\">").append(escape(output.toString())).append("</p>\n");

        page.append("<section><h2>Result</h2>\n");
        ClassificationMetrics metrics = results.eval();
        Map<String, Object> summary = new LinkedHashMap<>();
        if (metrics != null) {
            summary.put("accuracy", format(metrics.accuracy()));
            summary.put("macro-F1", format(metrics.macroF1()));
            summary.put("eval loss", format(metrics.loss()));
        }
        summary.put("final model", "step " + results.finalModelStep() + (args.load_best_model_at_end
                ? " (the best by " + args.metric_for_best_model + ")" : " (the last update)"));
        summary.put("updates", state.global_step + " of " + state.max_steps + ", epoch " + format(state.epoch));
        summary.put("train loss", format(results.trainLoss()));
        summary.put("throughput", String.format("%,.0f tokens/s, %.1f samples/s", results.trainTokensPerSecond(),
                results.trainSamplesPerSecond()));
        summary.put("run time", String.format("%.0f s (the last process; a resumed run counts its own part)", results.trainRuntime()));
        results.timings().forEach((part, seconds) -> summary.put(part.replace('_', ' '), String.format("%.1f", seconds)));
        table(page, summary);
        page.append("</section>\n");

        page.append("<section><h2>Training</h2>\n<div class=\"charts\">")
                .append("<figure><canvas id=\"loss\"></canvas><figcaption>loss per logging step (train) and evaluation</figcaption></figure>")
                .append("<figure><canvas id=\"scores\"></canvas><figcaption>accuracy and macro-F1 per evaluation</figcaption></figure>")
                .append("<figure><canvas id=\"lr\"></canvas><figcaption>learning rate and gradient norm</figcaption></figure>")
                .append("</div></section>\n");

        if (metrics != null) {
            page.append("<section><h2>Final model on the test split</h2>\n");
            confusion(page, metrics);
            page.append("</section>\n");
        }

        page.append("<section><h2>Dataset</h2>\n");
        dataset(page);
        page.append("</section>\n");

        page.append("<section><h2>Hyperparameters</h2>\n");
        Map<String, Object> hyperparameters = new LinkedHashMap<>(TrainerState.JSON.convertValue(args, Map.class));
        table(page, hyperparameters);
        page.append("</section>\n");

        page.append("<section><h2>Checkpoints</h2>\n<ul>\n");
        for (Location checkpoint : checkpoints) {
            boolean best = checkpoint.toString().equals(state.best_model_checkpoint);
            page.append("<li><code>").append(escape(checkpoint.toString())).append("</code>").append(best ? " (best)" : "").append("</li>\n");
        }
        page.append("<li><code>").append(escape(output.toString())).append("</code> (final model, with this report)</li>\n</ul></section>\n");

        page.append("<script type=\"application/json\" id=\"history\">")
                .append(JSON.writeValueAsString(state.log_history).replace("</", "<\\/")).append("</script>\n");
        page.append("<script>\n").append(chartJs()).append("\n</script>\n");
        page.append("<script>\n").append(CHARTS).append("</script>\n</body></html>\n");
        return page.toString();
    }

    private static void confusion(StringBuilder page, ClassificationMetrics metrics) {
        List<String> labels = metrics.labels();
        page.append("<table class=\"confusion\"><caption>confusion matrix: rows are the true labels, columns the predicted ones</caption>\n<tr><th></th>");
        labels.forEach(label -> page.append("<th>").append(escape(label)).append("</th>"));
        page.append("</tr>\n");
        long max = 1;
        for (long[] row : metrics.confusion()) {
            for (long count : row) {
                max = Math.max(max, count);
            }
        }
        for (int i = 0; i < labels.size(); i++) {
            page.append("<tr><th>").append(escape(labels.get(i))).append("</th>");
            for (int j = 0; j < labels.size(); j++) {
                long count = metrics.confusion()[i][j];
                double shade = 0.08 + 0.6 * count / max;
                String colour = i == j ? "40,140,80" : "200,60,60";
                page.append(String.format("<td style=\"background: rgba(%s,%.2f)\">%d</td>", colour, count == 0 ? 0.0 : shade, count));
            }
            page.append("</tr>\n");
        }
        page.append("</table>\n<table><tr><th>label</th><th>precision</th><th>recall</th><th>F1</th><th>support</th></tr>\n");
        for (ClassificationMetrics.PerClass c : metrics.perClass()) {
            page.append("<tr><td>").append(escape(c.label())).append("</td><td>").append(format(c.precision())).append("</td><td>")
                    .append(format(c.recall())).append("</td><td>").append(format(c.f1())).append("</td><td>").append(c.support())
                    .append("</td></tr>\n");
        }
        page.append("</table>\n");
    }

    private void dataset(StringBuilder page) {
        Map<String, Object> about = new LinkedHashMap<>();
        about.put("inputs", manifest.inputs());
        about.put("labels", manifest.labels());
        about.put("max_length", manifest.maxLength() + " tokens, truncation_side " + manifest.truncationSide());
        about.put("split", manifest.split() == null ? null : manifest.split().strategy());
        about.put("tokenizer sha256", manifest.tokenizer() == null ? null : manifest.tokenizer().sha256());
        about.put("rejected rows", manifest.rejected() == null ? 0 : manifest.rejected().count());
        if (manifest.leakage() != null) {
            about.put("leakage", manifest.leakage().rows() + " test rows also in train" + (manifest.leakage().dropped() ? ", dropped" : ""));
        }
        table(page, about);
        page.append("<table><tr><th>split</th><th>rows</th><th>per class</th><th>duplicates</th><th>tokens kept: mean / p50 / p90 / p99 / max</th>")
                .append("<th>tokens before truncation: mean / p50 / p90 / p99 / max</th><th>truncated</th></tr>\n");
        manifest.splits().forEach((name, split) -> page.append("<tr><td>").append(escape(name)).append("</td><td>").append(split.rows())
                .append("</td><td>").append(escape(String.valueOf(split.perClass()))).append("</td><td>").append(split.duplicates())
                .append("</td><td>").append(tokens(split.tokens())).append("</td><td>").append(tokens(split.tokensBeforeTruncation()))
                .append("</td><td>").append(split.truncated()).append(String.format(" (%.1f %%)", 100 * split.truncatedFraction()))
                .append("</td></tr>\n"));
        page.append("</table>\n");
        if (manifest.leakage() != null && !manifest.leakage().examples().isEmpty()) {
            page.append("<table><caption>leaked rows (first ").append(manifest.leakage().examples().size())
                    .append(")</caption><tr><th>text</th><th>train</th><th>test</th></tr>\n");
            for (Manifest.LeakedRow row : manifest.leakage().examples()) {
                page.append("<tr><td>").append(escape(row.textPreview())).append("</td><td>").append(escape(row.train()))
                        .append("</td><td>").append(escape(row.test())).append("</td></tr>\n");
            }
            page.append("</table>\n");
        }
    }

    private static String tokens(Manifest.TokenStats stats) {
        return stats == null ? "" : String.format("%.1f / %d / %d / %d / %d", stats.mean(), stats.p50(), stats.p90(), stats.p99(), stats.max());
    }

    private static void table(StringBuilder page, Map<String, Object> rows) {
        page.append("<table class=\"pairs\">\n");
        rows.forEach((name, value) -> page.append("<tr><th>").append(escape(name)).append("</th><td>")
                .append(escape(String.valueOf(value))).append("</td></tr>\n"));
        page.append("</table>\n");
    }

    private static String format(double value) {
        return String.format("%.4f", value);
    }

    static String escape(String text) {
        return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }

    private static String chartJs() throws IOException {
        try (InputStream in = TrainingReport.class.getClassLoader().getResourceAsStream(CHART_JS)) {
            if (in == null) {
                throw new IllegalStateException(CHART_JS + " is not on the classpath (the org.webjars.npm:chart.js dependency)");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private static final String STYLE = """
            body { font: 14px/1.45 system-ui, sans-serif; margin: 24px auto; max-width: 1180px; color: #222; }
            h1 { margin-bottom: 0; } .where { color: #666; margin-top: 4px; font-family: monospace; }
            section { margin-top: 28px; } h2 { border-bottom: 1px solid #ddd; padding-bottom: 4px; }
            table { border-collapse: collapse; margin: 8px 0 16px; } caption { text-align: left; color: #555; padding: 4px 0; }
            th, td { border: 1px solid #ddd; padding: 4px 10px; text-align: left; vertical-align: top; }
            table.pairs th { background: #f6f6f6; font-weight: 600; }
            table.confusion td { text-align: right; min-width: 64px; font-variant-numeric: tabular-nums; }
            .charts { display: grid; grid-template-columns: 1fr 1fr; gap: 16px; }
            figure { margin: 0; } figcaption { color: #555; text-align: center; }
            """;

    /** Draws the charts from the log history embedded in the page. */
    private static final String CHARTS = """
            const history = JSON.parse(document.getElementById('history').textContent);
            const train = history.filter(e => 'loss' in e);
            const evals = history.filter(e => 'eval_loss' in e);
            const points = (rows, key) => rows.map(e => ({x: e.step, y: e[key]}));
            const axes = (y) => ({x: {type: 'linear', title: {display: true, text: 'step'}}, y: {title: {display: true, text: y}}});
            const options = {animation: false, responsive: true, parsing: false};
            new Chart(document.getElementById('loss'), {type: 'line', options: {...options, scales: axes('loss')}, data: {datasets: [
              {label: 'train loss', data: points(train, 'loss'), borderColor: '#3366cc', pointRadius: 0, borderWidth: 1.5},
              {label: 'eval loss', data: points(evals, 'eval_loss'), borderColor: '#dc3912', pointRadius: 3}]}});
            new Chart(document.getElementById('scores'), {type: 'line', options: {...options, scales: axes('score')}, data: {datasets: [
              {label: 'accuracy', data: points(evals, 'eval_accuracy'), borderColor: '#109618', pointRadius: 3},
              {label: 'macro-F1', data: points(evals, 'eval_macro_f1'), borderColor: '#990099', pointRadius: 3}]}});
            new Chart(document.getElementById('lr'), {type: 'line', options: {...options, scales: {...axes('learning rate'),
                grad: {position: 'right', title: {display: true, text: 'gradient norm'}, grid: {drawOnChartArea: false}}}}, data: {datasets: [
              {label: 'learning rate', data: points(train, 'learning_rate'), borderColor: '#ff9900', pointRadius: 0},
              {label: 'gradient norm', data: points(train, 'grad_norm'), borderColor: '#0099c6', pointRadius: 0, yAxisID: 'grad'}]}});
            """;
}
