package io.gpt2cls.training;

import java.io.IOException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.NativeRuntime;

/**
 * Training throughput of a preset shape on random full-length rows: tokens/s and samples/s of the
 * real training step (forward, backward, clipping, AdamW), after warm-up updates, and the seconds
 * of the measured updates spent in each part (bench/train-vs-torch.sh compares them with PyTorch's).
 */
public final class ThroughputBenchmark {

    public record Measurement(String preset, int batchSize, int seqLen, int updates, double seconds,
                              double tokensPerSecond, double samplesPerSecond, long parameters, Map<String, Double> breakdown) {}

    /** The parts of an update that {@link Measurement#breakdown} times (Trainer.Timings' names). */
    private static final List<String> PARTS = List.of("forward_seconds", "backward_seconds", "optimizer_seconds");

    private ThroughputBenchmark() {}

    public static Measurement run(ModelPreset preset, int batchSize, int seqLen, int warmupUpdates, int updates) throws IOException {
        NativeRuntime.init();
        Gpt2Config config = preset.config(List.of("negative", "positive"));
        LabeledSequences rows = randomRows(batchSize * (warmupUpdates + updates), seqLen, config.vocab_size);
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(config, root, 1)) {
            TrainingArguments args = new TrainingArguments();
            args.per_device_train_batch_size = batchSize;
            args.max_steps = warmupUpdates + updates;
            args.logging_steps = Math.max(1, updates / 4);
            args.learning_rate = 1e-4;
            long[] measuredFrom = new long[1];
            Trainer trainer = new Trainer(model, args, rows, null);
            Map<String, Double> atWarmup = new LinkedHashMap<>();
            Trainer.Result result = trainer
                    .addCallback(new TrainerCallback() {
                        @Override
                        public void onStepEnd(TrainerState state, TrainerControl control) {
                            if (state.global_step == warmupUpdates) {
                                measuredFrom[0] = System.nanoTime();
                                atWarmup.putAll(trainer.timings().asMap());
                            }
                        }
                    })
                    .train();
            double seconds = (System.nanoTime() - measuredFrom[0]) / 1e9;
            long tokens = (long) updates * batchSize * seqLen;
            Map<String, Double> breakdown = new LinkedHashMap<>();
            for (String part : PARTS) {
                breakdown.put(part, Trainer.round(result.timings().asMap().get(part) - atWarmup.get(part)));
            }
            return new Measurement(preset.id, batchSize, seqLen, updates, seconds, tokens / seconds,
                    (double) updates * batchSize / seconds, model.parameterCount(), breakdown);
        }
    }

    private static LabeledSequences randomRows(int count, int seqLen, int vocab) {
        Random random = new Random(3);
        int[][] tokens = new int[count][seqLen];
        for (int[] row : tokens) {
            for (int i = 0; i < seqLen; i++) {
                row[i] = random.nextInt(vocab - 1);
            }
        }
        return new LabeledSequences() {
            @Override
            public int size() {
                return count;
            }

            @Override
            public int[] tokens(int row) {
                return tokens[row];
            }

            @Override
            public int label(int row) {
                return row % 2;
            }
        };
    }
}
