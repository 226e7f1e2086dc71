package io.gpt2cls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.model.TestPaths;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/** The jar's commands: each runs one job, prints JSON on stdout, and on bad input one clear line and a non-zero exit. */
@QuarkusMainTest
class MainCommandTest {

    static final Path FIXTURE = TestPaths.resource("gpt2-parity");

    @Test
    void logitsOfTheParityFixtureMatchTheReference(QuarkusMainLauncher launcher) throws Exception {
        LaunchResult result = launcher.launch("logits", "--model", FIXTURE.resolve("model").toString(),
                "--input", FIXTURE.resolve("inputs.json").toString());
        assertEquals(0, result.exitCode(), result.getErrorOutput());
        String output = result.getOutput();
        // the launcher may interleave log lines with stdout: the JSON document starts at its first '{' line
        JsonNode rows = new ObjectMapper().readTree(output.substring(output.indexOf("\n{") + 1)).path("rows");
        JsonNode expected = new ObjectMapper().readTree(FIXTURE.resolve("expected.json").toFile()).path("rows");
        assertEquals(expected.size(), rows.size());
        for (int r = 0; r < rows.size(); r++) {
            assertEquals(expected.get(r).path("pool_index").asInt(), rows.get(r).path("pool_index").asInt());
            for (int l = 0; l < 3; l++) {
                assertEquals(expected.get(r).path("logits").get(l).asDouble(), rows.get(r).path("logits").get(l).asDouble(), 1e-4);
            }
        }
    }

    @Test
    void badLogitsInputsEachGetOneClearLine(QuarkusMainLauncher launcher, @TempDir Path dir) throws Exception {
        String model = FIXTURE.resolve("model").toString();
        assertFailure(launcher.launch("logits", "--model", dir.resolve("nope").toString(), "--input", "x.json"),
                1, "model directory");
        Files.writeString(dir.resolve("broken.json"), "{\"input_ids\": [[1, 2,");
        assertFailure(launcher.launch("logits", "--model", model, "--input", dir.resolve("broken.json").toString()),
                1, "is not valid JSON");
        Files.writeString(dir.resolve("oov.json"), "{\"input_ids\": [[1, 2, 512]]}");
        assertFailure(launcher.launch("logits", "--model", model, "--input", dir.resolve("oov.json").toString()),
                1, "row 0 position 2: id 512 is outside the vocabulary (0..511)");
        Files.writeString(dir.resolve("long.json"), "{\"input_ids\": [" + "[" + "1,".repeat(64) + "1]]}");
        assertFailure(launcher.launch("logits", "--model", model, "--input", dir.resolve("long.json").toString()),
                1, "more than the model's n_positions (64)");
        Files.writeString(dir.resolve("noids.json"), "{\"ids\": [[1]]}");
        assertFailure(launcher.launch("logits", "--model", model, "--input", dir.resolve("noids.json").toString()),
                1, "'input_ids' must be a list of rows");
        assertFailure(launcher.launch("frobnicate"), 2, "unknown command 'frobnicate'");
        assertFailure(launcher.launch("init-model", "--preset", "tiny"), 2, "missing --labels");
    }

    static void assertFailure(LaunchResult result, int exitCode, String message) {
        assertEquals(exitCode, result.exitCode(), result.getErrorOutput());
        assertTrue(result.getErrorOutput().contains("error: ") && result.getErrorOutput().contains(message),
                "expected '" + message + "' in: " + result.getErrorOutput());
    }

    @Test
    void tokenizerAndInitModelWriteAHuggingFaceCheckpoint(QuarkusMainLauncher launcher, @TempDir Path dir) {
        LaunchResult tokenizer = launcher.launch("tokenizer", "gpt2", "--out", dir.resolve("tok").toString());
        assertEquals(0, tokenizer.exitCode(), tokenizer.getErrorOutput());
        assertTrue(Files.exists(dir.resolve("tok/tokenizer.json")));

        LaunchResult init = launcher.launch("init-model", "--preset", "tiny", "--labels", "neg,pos", "--out", dir.resolve("m").toString());
        assertEquals(0, init.exitCode(), init.getErrorOutput());
        for (String file : new String[] {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
            assertTrue(Files.exists(dir.resolve("m").resolve(file)), file);
        }
    }

    @Test
    void everyCommandAnswersHelp(QuarkusMainLauncher launcher) {
        for (String command : Main.COMMANDS.keySet()) {
            LaunchResult help = launcher.launch(command, "--help");
            assertEquals(0, help.exitCode(), command + ": " + help.getErrorOutput());
            assertTrue(help.getOutput().contains("usage: java -jar gpt2cls-runner.jar " + command), command + ": " + help.getOutput());
        }
    }

    @Test
    void aRequestFileWithAnErrorIsNamedWithTheProblem(QuarkusMainLauncher launcher, @TempDir Path dir) throws Exception {
        Files.writeString(dir.resolve("prepare.json"), "{\"train\": \"t.jsonl\", \"max_length\": 1.5}");
        assertFailure(launcher.launch("prepare", dir.resolve("prepare.json").toString()), 1,
                dir.resolve("prepare.json") + ": field 'max_length' must be a whole number, got 1.5");
    }
}
