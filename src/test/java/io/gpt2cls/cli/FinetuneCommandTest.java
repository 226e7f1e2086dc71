package io.gpt2cls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.function.TestModels;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/** How the GPU container runs finetune: the answer on stdout, and with JSON logs on, one JSON object per log entry on stderr. */
@QuarkusMainTest
@TestProfile(FinetuneCommandTest.JsonLogs.class)
class FinetuneCommandTest {

    /** JSON logs on; the launcher does not capture log handlers' output, so the category also writes to a file. */
    public static class JsonLogs implements QuarkusTestProfile {
        static final Path COPY = Path.of(System.getProperty("java.io.tmpdir"), "gpt2cls-metrics-" + ProcessHandle.current().pid() + ".log");

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gpt2cls.finetune.json-logs", "true",
                    "quarkus.log.handler.file.\"metrics-copy\".enabled", "true",
                    "quarkus.log.handler.file.\"metrics-copy\".path", COPY.toString(),
                    "quarkus.log.handler.file.\"metrics-copy\".format", "%s%n",
                    "quarkus.log.category.\"gpt2cls.metrics\".handlers", "metrics,metrics-copy");
        }
    }

    @Test
    void eachLogEntryIsAlsoOneJsonLineForCloudWatch(QuarkusMainLauncher launcher, @TempDir Path dir) throws Exception {
        String request = "{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"tokenizer\": \"" + TestModels.tokenizer()
                + "\", \"output\": \"" + dir.resolve("model") + "\", \"training\": {\"max_steps\": 2, \"logging_steps\": 1}}";
        Files.deleteIfExists(JsonLogs.COPY);
        LaunchResult result = launcher.launch("finetune", request);
        assertEquals(0, result.exitCode(), result.getErrorOutput());
        ObjectMapper json = new ObjectMapper();
        List<JsonNode> lines = Files.readAllLines(JsonLogs.COPY).stream()
                .map(line -> {
                    try {
                        return json.readTree(line);
                    } catch (Exception e) {
                        throw new AssertionError("not one JSON object: " + line, e);
                    }
                }).toList();
        assertEquals(List.of("train", "train", "eval", "summary"), lines.stream().map(l -> l.path("event").asText()).toList());
        JsonNode first = lines.get(0);
        assertEquals(1, first.path("step").asInt());
        assertEquals(2, first.path("max_steps").asInt());
        assertTrue(first.path("loss").isNumber() && first.path("learning_rate").isNumber() && first.path("rss_mb").isNumber(), first.toString());
        assertEquals(dir.resolve("model").toString(), first.path("output").asText());
        assertTrue(lines.get(2).path("eval_accuracy").isNumber());
        String output = result.getOutput();
        // the launcher may interleave log lines with stdout: the JSON document starts at its first '{' line
        assertEquals("completed", json.readTree(output.substring(output.indexOf("\n{") + 1)).path("status").asText());
    }
}
