package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

/**
 * Checkpoints within a process: a run stopped on request and resumed from its checkpoint ends
 * bit-identical to an uninterrupted one; save and eval strategies by steps; rotation keeps the best;
 * early stopping; frozen embeddings. (Across processes, killed and stopped by signal, and through
 * S3: {@link ResumeAfterKillTest}.)
 */
class CheckpointingTest {

    static NDManager root;
    static Path tokenizer;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        NativeRuntime.init();
        root = NDManager.newBaseManager();
        tokenizer = Gpt2TokenizerBuilder.writeTo(dir.resolve("tok"));
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    static Gpt2ForSequenceClassification fresh() {
        return Gpt2ForSequenceClassification.randomInit(SyntheticData.tinyConfig(0.1), root, 7);
    }

    /** Dropout on, accumulation of 2 micro-batches (the last update of an epoch has one), saves and evaluations by steps. */
    static TrainingArguments stepArgs() {
        TrainingArguments args = TrainerTest.quickArgs();
        args.per_device_train_batch_size = 5; // 96 rows: 20 batches, the last of 1 row
        args.gradient_accumulation_steps = 3; // 7 updates per epoch, the last of 2 micro-batches
        args.num_train_epochs = 3;
        args.group_by_length = true;
        args.save_strategy = "steps";
        args.save_steps = 4;
        args.eval_strategy = "steps";
        args.eval_steps = 4;
        args.logging_steps = 3;
        return args;
    }

    @Test
    void aRunStoppedAndResumedEndsBitIdenticalToAnUninterruptedOne(@TempDir Path dir) throws Exception {
        for (int stopAt : new int[] {6, 8, 14}) { // mid-window, at an eval+save step, at an epoch's end
            Run uninterrupted = train(stepArgs(), dir.resolve("whole-" + stopAt), -1);
            Run resumed = train(stepArgs(), dir.resolve("parts-" + stopAt), stopAt);
            assertEquals(21, uninterrupted.result.state().global_step);
            assertEquals(Trainer.Status.COMPLETED, resumed.result.status());
            assertArrayEquals(Files.readAllBytes(uninterrupted.dir.resolve("model.safetensors")),
                    Files.readAllBytes(resumed.dir.resolve("model.safetensors")), "final weights, stopped at " + stopAt);
            assertEquals(withoutTimes(uninterrupted.result.state().log_history), withoutTimes(resumed.result.state().log_history),
                    "log history, stopped at " + stopAt);
            assertEquals(uninterrupted.result.finalMetrics().asLogEntry(), resumed.result.finalMetrics().asLogEntry());
            assertArrayEquals(uninterrupted.result.finalMetrics().confusion(), resumed.result.finalMetrics().confusion());
            assertEquals(uninterrupted.result.trainLoss(), resumed.result.trainLoss());
        }
    }

    @Test
    void mixedPrecisionResumesBitIdenticallyToo(@TempDir Path dir) throws Exception {
        TrainingArguments args = stepArgs();
        args.fp16 = true;
        args.num_train_epochs = 1;
        Run uninterrupted = train(args, dir.resolve("whole"), -1);
        Run resumed = train(args, dir.resolve("parts"), 3);
        assertArrayEquals(Files.readAllBytes(uninterrupted.dir.resolve("model.safetensors")),
                Files.readAllBytes(resumed.dir.resolve("model.safetensors")));
        assertEquals(withoutTimes(uninterrupted.result.state().log_history), withoutTimes(resumed.result.state().log_history));
    }

    record Run(Trainer.Result result, Path dir) {}

    /** Trains to the end; with {@code stopAt} >= 0 stops after that update and finishes in a second Trainer from the checkpoint. */
    static Run train(TrainingArguments args, Path out, int stopAt) throws Exception {
        LocalStore store = new LocalStore();
        Location output = Location.of(out);
        AtomicInteger step = new AtomicInteger();
        try (Gpt2ForSequenceClassification model = fresh()) {
            Trainer.Result first = TrainerTest.saving(new Trainer(model, args, TrainerTest.TRAIN, TrainerTest.EVAL), output, tokenizer)
                    .addCallback(afterEachUpdate(state -> step.set(state.global_step)))
                    .stopWhen(() -> stopAt >= 0 && step.get() >= stopAt)
                    .train();
            if (stopAt < 0) {
                return new Run(first, out);
            }
            assertEquals(Trainer.Status.STOPPED, first.status());
            assertEquals(stopAt, first.state().global_step);
            assertEquals(output.resolve("checkpoint-" + stopAt), first.checkpoint(), "a checkpoint at the stop");
        }
        Path checkpoint = store.fetchSet(output.resolve("checkpoint-" + stopAt), ModelCheckpoint.CONFIG_FILE);
        try (Gpt2ForSequenceClassification model = ModelCheckpoint.load(checkpoint, root)) {
            Trainer.Result rest = TrainerTest.saving(new Trainer(model, args, TrainerTest.TRAIN, TrainerTest.EVAL), output, tokenizer)
                    .train(checkpoint);
            return new Run(rest, out);
        }
    }

    /** A callback that runs {@code action} after each update. */
    static TrainerCallback afterEachUpdate(Consumer<TrainerState> action) {
        return new TrainerCallback() {
            @Override
            public void onStepEnd(TrainerState state, TrainerControl control) {
                action.accept(state);
            }
        };
    }

    /** Log entries without the wall-clock values, which no two runs share. */
    static List<Map<String, Object>> withoutTimes(List<Map<String, Object>> history) {
        List<Map<String, Object>> kept = new ArrayList<>();
        for (Map<String, Object> entry : history) {
            Map<String, Object> copy = new LinkedHashMap<>(entry);
            copy.keySet().removeIf(key -> key.endsWith("_runtime") || key.endsWith("_per_second"));
            kept.add(copy);
        }
        return kept;
    }

    @Test
    void aStopWhenAnEvaluationIsDueSavesWithoutEvaluatingAndTheResumeEvaluatesFirst(@TempDir Path dir) throws Exception {
        // update 8 is followed by an evaluation and a save (stepArgs): the stop comes after update 8, or once the
        // evaluation has started; either way it ends after update 8 with a save and no (complete) evaluation
        for (boolean duringEvaluation : new boolean[] {false, true}) {
            Location output = Location.of(dir.resolve("stopped-" + duringEvaluation));
            AtomicInteger step = new AtomicInteger();
            AtomicInteger evaluations = new AtomicInteger();
            AtomicInteger checksAfter8 = new AtomicInteger();
            try (Gpt2ForSequenceClassification model = fresh()) {
                Trainer.Result stopped = TrainerTest.saving(new Trainer(model, stepArgs(), TrainerTest.TRAIN, TrainerTest.EVAL), output,
                                tokenizer)
                        .addCallback(new TrainerCallback() {
                            @Override
                            public void onStepEnd(TrainerState state, TrainerControl control) {
                                step.set(state.global_step);
                            }

                            @Override
                            public void onEvaluate(TrainerState state, TrainerControl control, ClassificationMetrics metrics) {
                                evaluations.incrementAndGet();
                            }
                        })
                        // the Trainer checks after the update, then before each evaluation batch
                        .stopWhen(() -> step.get() >= 8 && checksAfter8.incrementAndGet() > (duringEvaluation ? 2 : 0))
                        .train();
                assertEquals(Trainer.Status.STOPPED, stopped.status());
                assertEquals(8, stopped.state().global_step, "no update after the one under way");
                assertEquals(1, evaluations.get(), "only the evaluation at step 4 ran, duringEvaluation " + duringEvaluation);
                assertTrue(stopped.state().log_history.stream().noneMatch(e -> e.containsKey("eval_loss") && e.get("step").equals(8)));
                assertEquals(output.resolve("checkpoint-8"), stopped.checkpoint());
            }
            TrainerState saved = TrainerState.read(dir.resolve("stopped-" + duringEvaluation + "/checkpoint-8"));
            assertTrue(saved.evaluation_due && saved.save_due, "the checkpoint records what the stop skipped");
        }
        // and the resumed run still equals an uninterrupted one: aRunStoppedAndResumedEndsBitIdenticalToAnUninterruptedOne (stopAt 8)
    }

    @Test
    void aResumeContinuesAtTheDataPositionTheCheckpointRecordedAndIgnoreDataSkipAtItsEpochsStart(@TempDir Path dir)
            throws Exception {
        Location output = Location.of(dir.resolve("run"));
        AtomicInteger step = new AtomicInteger();
        try (Gpt2ForSequenceClassification model = fresh()) {
            TrainerTest.saving(new Trainer(model, stepArgs(), TrainerTest.TRAIN, null), output, tokenizer)
                    .addCallback(afterEachUpdate(state -> step.set(state.global_step)))
                    .stopWhen(() -> step.get() >= 10).train();
        }
        TrainerState recorded = TrainerState.read(dir.resolve("run/checkpoint-10"));
        assertEquals(1, recorded.epoch_index, "7 updates per epoch: update 10 is the third of epoch 1");
        assertEquals(9, recorded.epoch_batches_consumed, "3 updates x 3 micro-batches");
        // twice the batch size: 4 updates per epoch, so global_step 10 would put a recomputed position in epoch 2
        TrainingArguments changed = stepArgs();
        changed.per_device_train_batch_size = 10;
        changed.ignore_data_skip = true;
        List<Double> epochs = new ArrayList<>();
        Path checkpoint = new LocalStore().fetchSet(output.resolve("checkpoint-10"), ModelCheckpoint.CONFIG_FILE);
        try (Gpt2ForSequenceClassification model = ModelCheckpoint.load(checkpoint, root)) {
            new Trainer(model, changed, TrainerTest.TRAIN, null)
                    .addCallback(afterEachUpdate(state -> epochs.add(state.epoch)))
                    .train(checkpoint);
        }
        assertEquals(1.3, epochs.get(0), 1e-9, "epoch 1 from its first batch: 3 of its 10 batches after the first update");
    }

    @Test
    void stepStrategiesEvaluateAndSaveEveryNUpdatesAndSaveTheLast(@TempDir Path dir) throws Exception {
        Run run = train(stepArgs(), dir.resolve("run"), -1);
        List<Integer> evaluated = run.result.state().log_history.stream().filter(e -> e.containsKey("eval_loss"))
                .map(e -> (Integer) e.get("step")).toList();
        assertEquals(List.of(4, 8, 12, 16, 20, 21), evaluated, "every 4 updates, and the final model (step 21)");
        assertEquals(List.of("checkpoint-12", "checkpoint-16", "checkpoint-20", "checkpoint-21", "checkpoint-4", "checkpoint-8"),
                new LocalStore().listSets(Location.of(run.dir), "config.json"));
        for (String file : List.of("optimizer.safetensors", "scheduler.json", "rng_state.json", "trainer_state.json",
                "training_args.json", "model.safetensors", "tokenizer.json")) {
            assertTrue(Files.exists(run.dir.resolve("checkpoint-8").resolve(file)), file);
        }
        assertEquals(21, AllResults.read(run.dir).finalModelStep());
    }

    @Test
    void saveTotalLimitDeletesTheOldestButNeverTheBest(@TempDir Path dir) throws Exception {
        LocalStore store = new LocalStore();
        Location out = Location.of(dir.resolve("run"));
        try (Gpt2ForSequenceClassification model = fresh()) {
            Trainer.Result result = bestFirst(model, 2, store, out).train();
            assertEquals(4, result.state().best_global_step, "the setup needs the best checkpoint to be the first");
            assertEquals(4, result.finalModelStep());
        }
        assertEquals(List.of("checkpoint-21", "checkpoint-4"), store.listSets(out, "config.json"),
                "the newest and the best, which is older than the limit");
        assertArrayEquals(Files.readAllBytes(dir.resolve("run/checkpoint-4/model.safetensors")),
                Files.readAllBytes(dir.resolve("run/model.safetensors")), "load_best_model_at_end");
    }

    @Test
    void saveTotalLimitOneKeepsTheNewestBesideAnOlderBestAndNeverTheStopCheckpoint(@TempDir Path dir) throws Exception {
        LocalStore store = new LocalStore();
        // stopped after update 10 (no save is due there): the stop's checkpoint is what a retry resumes
        Location stopped = Location.of(dir.resolve("stopped"));
        AtomicInteger step = new AtomicInteger();
        try (Gpt2ForSequenceClassification model = fresh()) {
            Trainer.Result result = bestFirst(model, 1, store, stopped)
                    .addCallback(afterEachUpdate(state -> step.set(state.global_step)))
                    .stopWhen(() -> step.get() >= 10).train();
            assertEquals(Trainer.Status.STOPPED, result.status());
            assertEquals(4, result.state().best_global_step, "the setup needs the best checkpoint to be the first");
        }
        assertEquals(List.of("checkpoint-10", "checkpoint-4"), store.listSets(stopped, "config.json"),
                "the stop's checkpoint beside the best");
        // to the end: transformers keeps the newest beside an older best even at save_total_limit 1 (a resume needs it)
        Location whole = Location.of(dir.resolve("whole"));
        try (Gpt2ForSequenceClassification model = fresh()) {
            bestFirst(model, 1, store, whole).train();
        }
        assertEquals(List.of("checkpoint-21", "checkpoint-4"), store.listSets(whole, "config.json"));
    }

    @Test
    void earlyStoppingEndsTrainingAfterPatienceEvaluationsWithoutImprovement(@TempDir Path dir) throws Exception {
        TrainingArguments args = stepArgs();
        args.metric_for_best_model = "loss";
        args.load_best_model_at_end = true;
        args.early_stopping_patience = 2;
        Location out = Location.of(dir.resolve("run"));
        try (Gpt2ForSequenceClassification model = fresh()) {
            Trainer.Result result = TrainerTest.saving(new Trainer(model, args, TrainerTest.TRAIN, flipped(TrainerTest.EVAL)), out,
                    tokenizer).addCallback(new EarlyStoppingCallback(args)).train();
            assertEquals(12, result.state().global_step, "best at 4, no better at 8 and 12: stop");
            assertEquals(4, result.finalModelStep());
            assertEquals(Trainer.Status.COMPLETED, result.status());
            assertEquals(2, ((Number) result.state().stateful_callbacks.get(EarlyStoppingCallback.NAME).get("attributes")
                    .get(EarlyStoppingCallback.COUNTER)).intValue());
        }
        TrainerState saved = TrainerState.read(dir.resolve("run/checkpoint-8"));
        assertEquals(1, ((Number) saved.stateful_callbacks.get(EarlyStoppingCallback.NAME).get("attributes")
                .get(EarlyStoppingCallback.COUNTER)).intValue(), "the counter is in each checkpoint, for a resume");
    }

    @Test
    void earlyStoppingThresholdCountsSmallImprovementsAsNone() {
        TrainingArguments args = stepArgs();
        args.metric_for_best_model = "accuracy";
        args.load_best_model_at_end = true;
        args.early_stopping_patience = 2;
        args.early_stopping_threshold = 0.05;
        EarlyStoppingCallback callback = new EarlyStoppingCallback(args);
        TrainerState state = new TrainerState();
        TrainerControl control = new TrainerControl();
        callback.onTrainBegin(state, control);
        state.best_metric = 0.80;
        callback.onEvaluate(state, control, metricsWithAccuracy(0.84)); // better, but by less than 0.05
        callback.onEvaluate(state, control, metricsWithAccuracy(0.80));
        assertTrue(control.shouldTrainingStop);
        control.shouldTrainingStop = false;
        callback.onEvaluate(state, control, metricsWithAccuracy(0.86)); // by more than 0.05: the count restarts
        assertEquals(0, ((Number) state.stateful_callbacks.get(EarlyStoppingCallback.NAME).get("attributes")
                .get(EarlyStoppingCallback.COUNTER)).intValue());
    }

    static ClassificationMetrics metricsWithAccuracy(double accuracy) {
        int correct = (int) Math.round(accuracy * 100);
        int[] actual = new int[100];
        int[] predicted = new int[100];
        for (int i = correct; i < 100; i++) {
            predicted[i] = 1;
        }
        return ClassificationMetrics.compute(actual, predicted, 0.5, List.of("low", "high"));
    }

    @Test
    void frozenEmbeddingsKeepTheirValuesAndHaveNoOptimizerState(@TempDir Path dir) throws Exception {
        TrainingArguments args = stepArgs();
        args.freeze_embeddings = true;
        args.max_steps = 4;
        Location out = Location.of(dir.resolve("run"));
        try (Gpt2ForSequenceClassification model = fresh()) {
            float[] wte = model.namedParameters().get("transformer.wte.weight").toFloatArray();
            float[] wpe = model.namedParameters().get("transformer.wpe.weight").toFloatArray();
            float[] head = model.namedParameters().get("score.weight").toFloatArray();
            TrainerTest.saving(new Trainer(model, args, TrainerTest.TRAIN, null), out, tokenizer).train();
            assertArrayEquals(wte, model.namedParameters().get("transformer.wte.weight").toFloatArray(), 0f);
            assertArrayEquals(wpe, model.namedParameters().get("transformer.wpe.weight").toFloatArray(), 0f);
            assertTrue(!java.util.Arrays.equals(head, model.namedParameters().get("score.weight").toFloatArray()), "the rest trains");
        }
        Map<String, io.gpt2cls.tensors.Safetensors.Tensor> optimizer =
                io.gpt2cls.tensors.Safetensors.read(dir.resolve("run/checkpoint-4/optimizer.safetensors"));
        assertTrue(optimizer.keySet().stream().noneMatch(name -> name.contains(".wte.") || name.contains(".wpe.")));
        assertNotNull(optimizer.get("score.weight.exp_avg"));
    }

    /**
     * A trainer whose best checkpoint is the first (eval loss rises as the model learns on flipped labels), with
     * load_best_model_at_end and checkpoints rotated at {@code saveTotalLimit}.
     */
    static Trainer bestFirst(Gpt2ForSequenceClassification model, int saveTotalLimit, LocalStore store, Location out) throws Exception {
        TrainingArguments args = stepArgs();
        args.save_total_limit = saveTotalLimit;
        args.metric_for_best_model = "loss";
        args.load_best_model_at_end = true;
        return new Trainer(model, args, TrainerTest.TRAIN, flipped(TrainerTest.EVAL)).savingTo(store, out)
                .addCallback(new CheckpointPublisher(store, out, TrainerTest.gpt2Files(tokenizer), saveTotalLimit));
    }

    static LabeledSequences flipped(LabeledSequences data) {
        return new LabeledSequences() {
            @Override
            public int size() {
                return data.size();
            }

            @Override
            public int[] tokens(int row) {
                return data.tokens(row);
            }

            @Override
            public int label(int row) {
                return 1 - data.label(row);
            }
        };
    }
}
