package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

/**
 * The report of a real (short) run holds what it claims: the run's log history as the charts' data,
 * Chart.js itself (no network needed to open it), the final model's confusion matrix, and every
 * checkpoint left under the output with the best one marked. Whether a browser draws the charts
 * is checked by bench/report-screenshot.sh in headless Chromium.
 */
class TrainingReportTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static String html;
    static Path out;

    @BeforeAll
    static void trainBriefly() throws Exception {
        NativeRuntime.init();
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 24; i++) {
            lines.add(JSON.writeValueAsString(Map.of("text", (i % 2 == 0 ? "sunny rain cloud " : "goal match team ") + i,
                    "label", i % 2 == 0 ? "weather" : "sports")));
        }
        Files.write(dir.resolve("train.jsonl"), lines);
        PrepareSpec prepare = new PrepareSpec();
        prepare.trainFiles = List.of(InputFile.local(dir.resolve("train.jsonl")));
        prepare.tokenizer = Gpt2TokenizerBuilder.cached();
        prepare.outputDir = dir.resolve("dataset");
        prepare.maxLength = 16;
        prepare.testFraction = 0.25;
        new DatasetPreparer().prepare(prepare);

        TrainingArguments args = new TrainingArguments();
        args.learning_rate = 1e-3;
        args.max_steps = 6;
        args.per_device_train_batch_size = 4;
        args.logging_steps = 1;
        args.eval_strategy = "steps";
        args.eval_steps = 2;
        args.save_strategy = "steps";
        args.save_steps = 2;
        args.save_total_limit = 1;
        args.load_best_model_at_end = true;
        out = dir.resolve("model");
        FinetuneJob.run(new FinetuneJob.Spec(prepare.outputDir, null, "tiny", prepare.tokenizer, Location.of(out), args, 1),
                new LocalStore());
        html = Files.readString(out.resolve(TrainingReport.FILE));
    }

    @Test
    void theChartsDataIsTheRunsLogHistory() throws Exception {
        Matcher history = Pattern.compile("<script type=\"application/json\" id=\"history\">(.*?)</script>", Pattern.DOTALL).matcher(html);
        assertTrue(history.find(), "the log history is embedded as JSON");
        JsonNode embedded = JSON.readTree(history.group(1).replace("<\\/", "</"));
        JsonNode logged = JSON.readTree(out.resolve("trainer_state.json").toFile()).path("log_history");
        assertEquals(logged, embedded);
        assertEquals(3, embedded.findValues("eval_loss").size(), "evaluations at steps 2, 4 and 6");
        for (String canvas : List.of("loss", "scores", "lr")) {
            assertTrue(html.contains("<canvas id=\"" + canvas + "\">"), canvas);
        }
    }

    @Test
    void chartJsIsInlinedSoThePageOpensWithoutANetwork() {
        assertTrue(html.contains("Chart.js v4.4.1"), "the WebJar's Chart.js build is in the page");
        assertTrue(html.contains("new Chart(document.getElementById('loss')"));
        assertFalse(Pattern.compile("<script[^>]+src=|<link[^>]+href=").matcher(html).find(), "nothing is fetched from elsewhere");
    }

    @Test
    void theConfusionMatrixIsTheFinalEvaluations() throws Exception {
        JsonNode confusion = JSON.readTree(out.resolve(AllResults.FILE).toFile()).path("eval").path("confusion");
        Matcher table = Pattern.compile("<table class=\"confusion\">(.*?)</table>", Pattern.DOTALL).matcher(html);
        assertTrue(table.find());
        List<Long> cells = new ArrayList<>();
        Matcher cell = Pattern.compile("<td[^>]*>(\\d+)</td>").matcher(table.group(1));
        while (cell.find()) {
            cells.add(Long.parseLong(cell.group(1)));
        }
        List<Long> expected = new ArrayList<>();
        confusion.forEach(row -> row.forEach(count -> expected.add(count.asLong())));
        assertEquals(4, expected.size(), "two labels");
        assertEquals(expected, cells);
        assertEquals(6, cells.stream().mapToLong(Long::longValue).sum(), "every test row once");
    }

    @Test
    void everyCheckpointLeftIsListedAndTheBestIsMarked() throws Exception {
        String best = JSON.readTree(out.resolve("trainer_state.json").toFile()).path("best_model_checkpoint").asText();
        List<String> kept;
        try (var files = Files.list(out)) {
            kept = files.filter(f -> f.getFileName().toString().startsWith(CheckpointPublisher.PREFIX)).map(Path::toString).sorted().toList();
        }
        assertTrue(kept.contains(best), "save_total_limit never deletes the best: " + kept);
        Matcher item = Pattern.compile("<li><code>([^<]+)</code>( \\(best\\))?</li>").matcher(html);
        List<String> listed = new ArrayList<>();
        while (item.find()) {
            listed.add(item.group(1));
            assertEquals(item.group(1).equals(best), item.group(2) != null, item.group(0));
        }
        assertEquals(kept, listed.stream().sorted().toList());
    }
}
