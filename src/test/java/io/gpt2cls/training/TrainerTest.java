package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.TokenBatch;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TokenizerFiles;
import io.gpt2cls.tokenizer.Truncation;
import io.gpt2cls.tokenizer.TruncationSide;

class TrainerTest {

    static NDManager root;
    static final SyntheticData TRAIN = new SyntheticData(96, 1);
    static final SyntheticData EVAL = new SyntheticData(40, 2);

    @BeforeAll
    static void start() {
        NativeRuntime.init();
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    static TrainingArguments quickArgs() {
        TrainingArguments args = new TrainingArguments();
        args.learning_rate = 3e-3;
        args.per_device_train_batch_size = 8;
        args.num_train_epochs = 3;
        args.warmup_ratio = 0.1;
        args.logging_steps = 4;
        return args;
    }

    /** GPT-2's tokenizer files for the synthetic model (pad 99, rows of at most 32 tokens). */
    static TokenizerFiles gpt2Files(Path tokenizer) throws java.io.IOException {
        return TokenizerFiles.forModel(tokenizer, 99, new Truncation(32, TruncationSide.RIGHT));
    }

    /** A trainer that publishes checkpoints and the final model to {@code out} on the local store. */
    static Trainer saving(Trainer trainer, Location out, Path tokenizer) throws java.io.IOException {
        LocalStore store = new LocalStore();
        return trainer.savingTo(store, out).addCallback(new CheckpointPublisher(store, out, gpt2Files(tokenizer), null));
    }

    static Gpt2ForSequenceClassification tiny(double dropout) {
        return Gpt2ForSequenceClassification.randomInit(SyntheticData.tinyConfig(dropout), root, 7);
    }

    @Test
    void learnsASeparableTaskAndLogsTrainAndEvalEntries() throws Exception {
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            Trainer.Result result = new Trainer(model, quickArgs(), TRAIN, EVAL).train();
            assertEquals(36, result.state().global_step); // 96 rows / 8 = 12 updates x 3 epochs
            assertTrue(result.finalMetrics().accuracy() >= 0.95, "accuracy " + result.finalMetrics().accuracy());
            List<Map<String, Object>> history = result.state().log_history;
            double firstLoss = (Double) history.get(0).get("loss");
            double lastLoss = history.stream().filter(e -> e.containsKey("loss")).map(e -> (Double) e.get("loss"))
                    .reduce((a, b) -> b).orElseThrow();
            assertTrue(lastLoss < firstLoss / 2, "loss " + firstLoss + " -> " + lastLoss);
            assertEquals(3, history.stream().filter(e -> e.containsKey("eval_accuracy")).count());
            assertTrue(history.get(history.size() - 1).containsKey("train_runtime"));
        }
    }

    @Test
    void sameSeedSameDataGivesTheSameRun() throws Exception {
        List<Object> first;
        List<Object> second;
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            first = losses(new Trainer(model, quickArgs(), TRAIN, null).train());
        }
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            second = losses(new Trainer(model, quickArgs(), TRAIN, null).train());
        }
        assertEquals(first, second);
    }

    static List<Object> losses(Trainer.Result result) {
        return result.state().log_history.stream().filter(e -> e.containsKey("loss")).map(e -> e.get("loss")).toList();
    }

    @Test
    void gradientAccumulationEqualsOneLargerBatch() throws Exception {
        float[] accumulated;
        float[] large;
        TrainingArguments args = quickArgs();
        args.max_steps = 1;
        args.weight_decay = 0.01;
        try (Gpt2ForSequenceClassification model = tiny(0.0)) {
            args.per_device_train_batch_size = 4;
            args.gradient_accumulation_steps = 2;
            args.warmup_ratio = 0;
            new Trainer(model, args, TRAIN, null).train();
            accumulated = model.namedParameters().get("transformer.h.0.attn.c_attn.weight").toFloatArray();
        }
        try (Gpt2ForSequenceClassification model = tiny(0.0)) {
            args.per_device_train_batch_size = 8;
            args.gradient_accumulation_steps = 1;
            new Trainer(model, args, TRAIN, null).train();
            large = model.namedParameters().get("transformer.h.0.attn.c_attn.weight").toFloatArray();
        }
        assertArrayEquals(large, accumulated, 2e-6f);
    }

    @Test
    void nativeMemoryStaysFlatOver300Updates() throws Exception {
        TrainingArguments args = quickArgs();
        args.max_steps = 300;
        args.per_device_train_batch_size = 4;
        args.logging_steps = 100;
        List<Integer> liveArrays = new ArrayList<>();
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            new Trainer(model, args, TRAIN, null)
                    .addCallback(new TrainerCallback() {
                        @Override
                        public void onStepEnd(TrainerState state, TrainerControl control) {
                            if (state.global_step == 10 || state.global_step == 300) {
                                liveArrays.add(model.manager().getManagedArrays().size());
                            }
                        }
                    })
                    .train();
        }
        assertEquals(2, liveArrays.size());
        assertEquals(liveArrays.get(0), liveArrays.get(1), "live NDArrays on the model's manager at update 10 vs 300");
    }

    @Test
    void writesHuggingFaceCheckpointsThatReloadToTheSameModel(@TempDir Path dir) throws Exception {
        Path tokenizer = Gpt2TokenizerBuilder.writeTo(dir.resolve("tok"));
        Path out = dir.resolve("run");
        TrainingArguments args = quickArgs();
        args.num_train_epochs = 2;
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            Trainer.Result result = saving(new Trainer(model, args, TRAIN, EVAL), Location.of(out), tokenizer).train();
            for (String name : List.of("checkpoint-12", "checkpoint-24", ".")) {
                Path d = out.resolve(name);
                for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
                        "special_tokens_map.json", "trainer_state.json", "training_args.json")) {
                    assertTrue(Files.exists(d.resolve(file)), d.resolve(file) + " missing");
                }
            }
            try (Stream<Path> files = Files.list(out)) {
                assertTrue(files.noneMatch(p -> p.getFileName().toString().startsWith(".")), "no staging directories left");
            }
            TrainerState state = TrainerState.read(out);
            assertEquals(24, state.global_step);
            assertNotNull(state.best_model_checkpoint);
            assertNotNull(state.best_metric);
            assertEquals(result.state().log_history.size(), state.log_history.size());
            Gpt2Config saved = Gpt2Config.read(out.resolve("config.json"));
            assertEquals(List.of("low", "high"), saved.labels());
            assertEquals(Map.of("low", 0, "high", 1), saved.label2id);

            TokenBatch batch = BatchPlan.batch(EVAL, new int[] {0, 1, 2, 3}, 99);
            try (Gpt2ForSequenceClassification reloaded = ModelCheckpoint.load(out, root);
                 NDManager step = root.newSubManager()) {
                assertArrayEquals(model.forward(batch, step, false).logits().toFloatArray(),
                        reloaded.forward(batch, step, false).logits().toFloatArray(), 1e-6f);
            }
        }
    }

    @Test
    void finalModelIsTheLastOneOrWithLoadBestModelAtEndTheBestCheckpoint(@TempDir Path dir) throws Exception {
        Path tokenizer = Gpt2TokenizerBuilder.writeTo(dir.resolve("tok"));
        for (boolean loadBest : new boolean[] {false, true}) {
            Path out = dir.resolve("run-" + loadBest);
            TrainingArguments args = quickArgs();
            args.metric_for_best_model = "eval_loss";
            args.load_best_model_at_end = loadBest;
            // Evaluated against flipped labels, the eval loss rises as the model learns: the best epoch is the first.
            LabeledSequences flipped = new LabeledSequences() {
                @Override
                public int size() {
                    return EVAL.size();
                }

                @Override
                public int[] tokens(int row) {
                    return EVAL.tokens(row);
                }

                @Override
                public int label(int row) {
                    return 1 - EVAL.label(row);
                }
            };
            try (Gpt2ForSequenceClassification model = tiny(0.1)) {
                saving(new Trainer(model, args, TRAIN, flipped), Location.of(out), tokenizer).train();
            }
            TrainerState state = TrainerState.read(out);
            assertTrue(state.best_model_checkpoint.endsWith("checkpoint-12"), "the setup needs a best epoch before the last");
            Path expected = loadBest ? Path.of(state.best_model_checkpoint) : out.resolve("checkpoint-36");
            assertArrayEquals(Files.readAllBytes(expected.resolve("model.safetensors")), Files.readAllBytes(out.resolve("model.safetensors")),
                    "final model of load_best_model_at_end=" + loadBest + " is " + expected.getFileName());
        }
    }

    @Test
    void bestModelCheckpointIsTheLocationAsTheUserGaveTheOutput(@TempDir Path dir) throws Exception {
        Path tokenizer = Gpt2TokenizerBuilder.writeTo(dir.resolve("tok"));
        String output = dir.resolve("run").toUri().toString(); // file:///..., not the path the store writes to
        TrainingArguments args = quickArgs();
        args.num_train_epochs = 1;
        args.load_best_model_at_end = true;
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            saving(new Trainer(model, args, TRAIN, EVAL), Location.parse(output), tokenizer).train();
        }
        String expected = Location.parse(output).resolve("checkpoint-12").toString();
        assertTrue(expected.startsWith("file:"), expected);
        assertEquals(expected, TrainerState.read(dir.resolve("run")).best_model_checkpoint);
        assertEquals(expected, TrainerState.read(dir.resolve("run/checkpoint-12")).best_model_checkpoint);
    }

    @Test
    void metricForBestModelNamesTheMetricWithOrWithoutTheEvalPrefix(@TempDir Path dir) throws Exception {
        Path tokenizer = Gpt2TokenizerBuilder.writeTo(dir.resolve("tok"));
        List<TrainerState> states = new ArrayList<>();
        for (String metric : List.of("accuracy", "eval_accuracy")) {
            TrainingArguments args = quickArgs();
            args.metric_for_best_model = metric;
            Path out = dir.resolve(metric);
            try (Gpt2ForSequenceClassification model = tiny(0.1)) {
                saving(new Trainer(model, args, TRAIN, EVAL), Location.of(out), tokenizer).train();
            }
            states.add(TrainerState.read(out));
        }
        double bestAccuracy = states.get(0).log_history.stream().filter(e -> e.containsKey("eval_accuracy"))
                .mapToDouble(e -> (Double) e.get("eval_accuracy")).max().orElseThrow();
        assertEquals(bestAccuracy, states.get(0).best_metric, "accuracy: greater is better");
        assertEquals(states.get(1).best_metric, states.get(0).best_metric);
        assertEquals(Path.of(states.get(1).best_model_checkpoint).getFileName(), Path.of(states.get(0).best_model_checkpoint).getFileName());
    }

    @Test
    void anUnknownMetricForBestModelIsRefusedBeforeTraining() {
        TrainingArguments args = quickArgs();
        args.metric_for_best_model = "precision";
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            TrainingException e = org.junit.jupiter.api.Assertions.assertThrows(TrainingException.class,
                    () -> new Trainer(model, args, TRAIN, EVAL));
            assertTrue(e.getMessage().contains("eval_accuracy") && e.getMessage().contains("eval_f1_high"), e.getMessage());
        }
    }

    @Test
    void evaluationExposesEachRowsProbabilitiesInRowOrder() throws Exception {
        try (Gpt2ForSequenceClassification model = tiny(0.0)) {
            Evaluator.Evaluation evaluation = Evaluator.evaluate(model, EVAL, 3);
            assertEquals(EVAL.size(), evaluation.probabilities().length);
            long correct = 0;
            for (int row = 0; row < EVAL.size(); row++) {
                TokenBatch alone = BatchPlan.batch(EVAL, new int[] {row}, 99);
                try (NDManager step = root.newSubManager()) {
                    assertArrayEquals(model.probabilities(alone, step)[0], evaluation.probabilities()[row], 1e-5f, "row " + row);
                }
                correct += evaluation.predicted(row) == EVAL.label(row) ? 1 : 0;
            }
            assertEquals((double) correct / EVAL.size(), evaluation.metrics().accuracy(), 1e-12);
        }
    }

    @Test
    void divergingLossStopsTrainingWithAnActionableError() {
        TrainingArguments args = quickArgs();
        args.learning_rate = 1e30;
        args.warmup_ratio = 0;
        args.max_grad_norm = 0;
        try (Gpt2ForSequenceClassification model = tiny(0.1)) {
            TrainingException e = org.junit.jupiter.api.Assertions.assertThrows(TrainingException.class,
                    () -> new Trainer(model, args, TRAIN, null).train());
            assertTrue(e.getMessage().contains("lower learning_rate"), e.getMessage());
        }
    }
}
