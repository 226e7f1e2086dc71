package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.FakeInstanceMetadata;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.S3ProxyExtension;
import io.gpt2cls.storage.S3ProxyServer;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

/**
 * The production job in child processes, checkpoints through {@code S3Store} to a real
 * S3-compatible server: a run killed with SIGKILL, and one stopped with SIGTERM, each sent again
 * with the same request, end with weights, log history and evaluation bit-identical to an
 * uninterrupted run's. SIGTERM exits with 143 after publishing a checkpoint, without a JVM crash;
 * SIGKILL loses only the updates since the last checkpoint.
 */
class ResumeAfterKillTest {

    @RegisterExtension
    static final S3ProxyExtension S3 = S3ProxyExtension.shared();
    static final String BUCKET = "resume-after-kill";
    static final int MAX_STEPS = 16;
    static final ObjectMapper JSON = new ObjectMapper();

    static Path dataset;
    static Path baseModel;

    /** Saves every 8 updates and evaluations every 4, a progress line every update, the best checkpoint kept. */
    static TrainingArguments trainingArguments(int maxSteps) {
        TrainingArguments args = new TrainingArguments();
        args.learning_rate = 3e-3;
        args.per_device_train_batch_size = 8;
        args.gradient_accumulation_steps = 2;
        args.max_steps = maxSteps;
        args.warmup_ratio = 0.1;
        args.logging_steps = 1;
        args.save_strategy = "steps";
        args.save_steps = 8;
        args.eval_strategy = "steps";
        args.eval_steps = 4;
        args.load_best_model_at_end = true;
        args.metric_for_best_model = "accuracy";
        args.group_by_length = true;
        return args;
    }

    @BeforeAll
    static void prepare(@TempDir Path dir) throws Exception {
        S3.server().createBucket(BUCKET);
        NativeRuntime.init();
        Path tokenizer = Gpt2TokenizerBuilder.cached();
        Files.write(dir.resolve("train.jsonl"), rows(160, 1));
        Files.write(dir.resolve("test.jsonl"), rows(40, 2));
        PrepareSpec prepare = new PrepareSpec();
        prepare.trainFiles = List.of(InputFile.local(dir.resolve("train.jsonl")));
        prepare.testFiles = List.of(InputFile.local(dir.resolve("test.jsonl")));
        prepare.tokenizer = tokenizer;
        prepare.outputDir = dir.resolve("dataset");
        prepare.maxLength = 32;
        new DatasetPreparer().prepare(prepare);
        dataset = prepare.outputDir;
        // a GPT-2 narrower than the tiny preset, so each checkpoint (weights + AdamW's moments) is ~10 MB
        baseModel = dir.resolve("base");
        Gpt2Config config = ModelPreset.TINY.config(List.of("sports", "weather"));
        config.n_embd = 16;
        config.n_head = 2;
        config.n_positions = 64;
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(config, root, 5)) {
            ModelCheckpoint.save(model, baseModel);
        }
        Files.copy(tokenizer, baseModel.resolve("tokenizer.json"));
    }

    static List<String> rows(int count, long seed) throws IOException {
        Map<String, List<String>> words = Map.of(
                "sports", List.of("goal", "match", "team", "league", "coach", "referee"),
                "weather", List.of("rain", "cloud", "storm", "sunny", "wind", "snow"));
        List<String> filler = List.of("the", "a", "of", "and", "today", "we", "was", "very");
        Random random = new Random(seed);
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String label = i % 2 == 0 ? "sports" : "weather";
            StringBuilder text = new StringBuilder();
            for (int w = 0, n = 3 + random.nextInt(20); w < n; w++) {
                List<String> pool = random.nextDouble() < 0.4 ? words.get(label) : filler;
                text.append(w == 0 ? "" : " ").append(pool.get(random.nextInt(pool.size())));
            }
            lines.add(JSON.writeValueAsString(Map.of("text", text.toString(), "label", label)));
        }
        return lines;
    }

    @Test
    void killedWithSigkillAndSentAgainEndsAsAnUninterruptedRun(@TempDir Path dir) throws Exception {
        Finished reference = reference(dir);
        String output = "s3://" + BUCKET + "/killed";
        Child first = Child.start(dir, output);
        first.awaitLine("step 10/" + MAX_STEPS); // checkpoint-8 is published, updates 9 and 10 are not saved
        first.process.destroyForcibly();
        first.process.waitFor(60, TimeUnit.SECONDS);
        Child second = Child.start(dir, output);
        assertEquals(0, second.finish());
        assertTrue(second.output().contains("resuming from " + output + "/checkpoint-8"), second.output());
        assertTrue(second.output().contains("resuming at update 8"), "SIGKILL loses only the updates since checkpoint-8");
        assertSameRun(reference, finished(output, dir));
    }

    @Test
    void stoppedWithSigtermExits143AfterACheckpointAndSentAgainEndsAsAnUninterruptedRun(@TempDir Path dir) throws Exception {
        Finished reference = reference(dir);
        String output = "s3://" + BUCKET + "/stopped";
        Child first = Child.start(dir, output);
        first.awaitLine("step 12/" + MAX_STEPS);
        first.process.toHandle().destroy(); // SIGTERM (Process.destroy() would also close our end of its output)
        assertEquals(143, first.finish(), first.output());
        String log = first.output();
        assertTrue(log.contains("stop requested: stopped after update"), log);
        assertTrue(log.contains("the work under way stopped"), "the JVM's exit waited for the checkpoint:\n" + log);
        assertTrue(!log.contains("A fatal error has been detected"), "no JVM crash:\n" + log);
        try (Stream<Path> files = Files.list(dir)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("hs_err")), "no hs_err file");
        }
        int stoppedAt = Integer.parseInt(log.replaceAll("(?s).*stopped after update (\\d+) of.*", "$1"));
        assertTrue(stoppedAt >= 12 && stoppedAt < MAX_STEPS, "stopped after the update under way: " + stoppedAt);
        Child second = Child.start(dir, output);
        assertEquals(0, second.finish());
        assertTrue(second.output().contains("resuming at update " + stoppedAt), second.output());
        assertSameRun(reference, finished(output, dir));
    }

    @Test
    void aSpotNoticeMidEpochStopsAfterACheckpointWith143AndTheRetryEndsAsAnUninterruptedRun(@TempDir Path dir) throws Exception {
        Finished reference = reference(dir);
        String output = "s3://" + BUCKET + "/spot";
        try (FakeInstanceMetadata imds = new FakeInstanceMetadata()) {
            Child first = Child.start(dir, output, imds.endpoint().toString());
            first.awaitLine("step 5/" + MAX_STEPS); // 10 updates per epoch: mid-epoch
            imds.announce();
            assertEquals(143, first.finish(), first.output());
            String log = first.output();
            assertTrue(log.contains("spot interruption notice: " + FakeInstanceMetadata.NOTICE), log);
            assertTrue(log.contains("stop requested: stopped after update"), log);
            assertTrue(!log.contains("A fatal error has been detected"), "no JVM crash:\n" + log);
            int stoppedAt = Integer.parseInt(log.replaceAll("(?s).*stopped after update (\\d+) of.*", "$1"));
            assertTrue(stoppedAt >= 5 && stoppedAt < MAX_STEPS, "stopped after the update under way: " + stoppedAt);
            Path data = S3.server().dataDir().resolve(BUCKET).resolve("spot");
            assertTrue(Files.exists(data.resolve("checkpoint-" + stoppedAt).resolve("config.json")), "the stop's checkpoint is published");
            assertTrue(imds.requests().contains("PUT /latest/api/token ttl=21600"), imds.requests().toString());
        }
        Child second = Child.start(dir, output); // the retry, on another instance without a notice
        assertEquals(0, second.finish(), second.output());
        assertTrue(second.output().contains("resuming at update "), second.output());
        assertSameRun(reference, finished(output, dir));
    }

    /** The final model, the last checkpoint's weights and the run's numbers, read back from S3. */
    record Finished(byte[] finalWeights, byte[] lastCheckpointWeights, List<Map<String, Object>> history, AllResults results) {}

    private static Finished reference;

    static synchronized Finished reference(Path dir) throws Exception {
        if (reference == null) {
            String output = "s3://" + BUCKET + "/reference";
            assertEquals(0, Child.start(dir, output).finish());
            reference = finished(output, dir);
        }
        return reference;
    }

    static Finished finished(String output, Path dir) throws IOException {
        Path data = S3.server().dataDir().resolve(BUCKET).resolve(output.substring(("s3://" + BUCKET + "/").length()));
        TrainerState state = TrainerState.read(data);
        return new Finished(Files.readAllBytes(data.resolve("model.safetensors")),
                Files.readAllBytes(data.resolve("checkpoint-" + MAX_STEPS).resolve("model.safetensors")),
                CheckpointingTest.withoutTimes(state.log_history), AllResults.read(data));
    }

    static void assertSameRun(Finished expected, Finished actual) {
        assertArrayEquals(expected.lastCheckpointWeights(), actual.lastCheckpointWeights(), "weights after the last update");
        assertArrayEquals(expected.finalWeights(), actual.finalWeights(), "the final (best) model");
        assertEquals(expected.history(), actual.history(), "log history: losses, gradient norms, evaluations");
        assertEquals(expected.results().finalModelStep(), actual.results().finalModelStep());
        assertEquals(expected.results().trainLoss(), actual.results().trainLoss());
        assertEquals(expected.results().eval().asLogEntry(), actual.results().eval().asLogEntry());
        assertArrayEquals(expected.results().eval().confusion(), actual.results().eval().confusion());
    }

    /** A {@link FinetuneChild} JVM, its output collected as it comes. */
    static final class Child {
        final Process process;
        final List<String> lines = new ArrayList<>();
        final Thread reader;

        private Child(Process process) {
            this.process = process;
            this.reader = new Thread(() -> {
                try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = in.readLine()) != null; ) {
                        synchronized (lines) {
                            lines.add(line);
                            lines.notifyAll();
                        }
                    }
                } catch (IOException e) {
                    // the process died: its output ends here
                }
            });
            reader.start();
        }

        /** @param imds an instance metadata endpoint to watch for a spot notice, if any */
        static Child start(Path dir, String output, String... imds) throws IOException {
            List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-Xmx512m", "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"),
                    "-Djava.util.logging.manager=org.jboss.logmanager.LogManager",
                    "-Dai.djl.offline=true",
                    "-Daws.accessKeyId=" + S3ProxyServer.IDENTITY, "-Daws.secretAccessKey=" + S3ProxyServer.CREDENTIAL,
                    "-Daws.region=us-east-1",
                    "-cp", System.getProperty("java.class.path"), FinetuneChild.class.getName(),
                    dataset.toString(), baseModel.toString(), output, S3.server().endpoint().toString(),
                    dir.resolve("s3-cache").toString(), String.valueOf(MAX_STEPS)));
            command.addAll(List.of(imds));
            ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
            // OpenMP threads that sleep between parallel regions: spinning ones make these small steps 5x slower on a
            // shared 2-CPU machine
            builder.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
            return new Child(builder.start());
        }

        void awaitLine(String fragment) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
            synchronized (lines) {
                while (lines.stream().noneMatch(l -> l.contains(fragment))) {
                    if (!process.isAlive() && !reader.isAlive() || System.nanoTime() > deadline) {
                        throw new AssertionError("the child never logged '" + fragment + "':\n" + String.join("\n", lines));
                    }
                    lines.wait(200);
                }
            }
        }

        int finish() throws InterruptedException {
            if (!process.waitFor(180, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                throw new AssertionError("the child did not finish:\n" + output());
            }
            reader.join(10_000);
            return process.exitValue();
        }

        String output() {
            synchronized (lines) {
                return String.join("\n", lines);
            }
        }
    }
}
