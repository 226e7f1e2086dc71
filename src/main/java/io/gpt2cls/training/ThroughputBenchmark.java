package io.gpt2cls.training;

import java.io.IOException;
import java.util.List;
import java.util.Random;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.NativeRuntime;

/**
 * Training throughput of a preset shape on random full-length rows: tokens/s and samples/s of the
 * real training step (forward, backward, clipping, AdamW), after warm-up updates.
 */
public final class ThroughputBenchmark {

    public record Measurement(String preset, int batchSize, int seqLen, int updates, double seconds,
                              double tokensPerSecond, double samplesPerSecond, long parameters) {}

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
            new Trainer(model, args, rows, null)
                    .addCallback(new TrainerCallback() {
                        @Override
                        public void onStepEnd(TrainerState state, TrainerControl control) {
                            if (state.global_step == warmupUpdates) {
                                measuredFrom[0] = System.nanoTime();
                            }
                        }
                    })
                    .train();
            double seconds = (System.nanoTime() - measuredFrom[0]) / 1e9;
            long tokens = (long) updates * batchSize * seqLen;
            return new Measurement(preset.id, batchSize, seqLen, updates, seconds, tokens / seconds,
                    (double) updates * batchSize / seconds, model.parameterCount());
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
