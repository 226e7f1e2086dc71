package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;

import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tensors.Safetensors;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

/**
 * fp16 mixed precision: the loss scaler decides as torch.amp.GradScaler does, and an update whose
 * float16 gradients overflowed changes nothing (weights, AdamW's moments and step counts, the
 * schedule) except the scale. Runs on the CPU, where libtorch computes float16 too (slowly).
 */
class MixedPrecisionTest {

    static NDManager root;

    @BeforeAll
    static void start() {
        NativeRuntime.init();
        root = NDManager.newBaseManager();
    }

    @AfterAll
    static void stop() {
        root.close();
    }

    @Test
    void theScaleHalvesOnOverflowAndDoublesAfterGrowthIntervalGoodUpdates() {
        LossScaler scaler = new LossScaler(1024, 3);
        assertFalse(scaler.update(Double.POSITIVE_INFINITY), "inf: skip");
        assertEquals(512, scaler.scale());
        assertFalse(scaler.update(Double.NaN), "NaN: skip");
        assertEquals(256, scaler.scale());
        assertTrue(scaler.update(12.5));
        assertTrue(scaler.update(3.0));
        assertEquals(256, scaler.scale(), "two good updates of three");
        assertTrue(scaler.update(1.0));
        assertEquals(512, scaler.scale(), "the third good update in a row doubles it");
        assertTrue(scaler.update(1.0));
        assertFalse(scaler.update(Double.POSITIVE_INFINITY));
        assertEquals(256, scaler.scale());
        assertTrue(scaler.update(1.0));
        assertTrue(scaler.update(1.0));
        assertEquals(256, scaler.scale(), "an overflow restarts the count of good updates");
    }

    @Test
    void theDefaultsAreGradScalers() {
        LossScaler scaler = new LossScaler();
        assertEquals(65536.0, scaler.scale());
        assertEquals(2000, scaler.growthInterval);
        assertEquals(2.0, scaler.growthFactor);
        assertEquals(0.5, scaler.backoffFactor);
    }

    @Test
    void skippedUpdatesLeaveWeightsAndOptimizerStateUntouched(@TempDir Path dir) throws Exception {
        Path tokenizer = Gpt2TokenizerBuilder.writeTo(dir.resolve("tok"));
        TrainingArguments args = TrainerTest.quickArgs();
        args.fp16 = true;
        args.max_steps = 3;
        args.save_strategy = "steps";
        args.save_steps = 3;
        args.eval_strategy = "no";
        Location out = Location.of(dir.resolve("run"));
        Map<String, float[]> before = new LinkedHashMap<>();
        try (Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(SyntheticData.tinyConfig(0.1), root, 7)) {
            model.namedParameters().forEach((name, p) -> before.put(name, p.toFloatArray()));
            // 2^60 overflows float16 in every backward: each update is skipped and the scale halves
            LossScaler scaler = new LossScaler(Math.pow(2, 60), 2000);
            Trainer.Result result = TrainerTest.saving(new Trainer(model, args, TrainerTest.TRAIN, null), out, tokenizer)
                    .withLossScaler(scaler).train();
            assertEquals(3, result.state().global_step, "skipped updates still count as steps, as in transformers");
            assertEquals(Math.pow(2, 57), scaler.scale());
            model.namedParameters().forEach((name, p) -> assertArrayEquals(before.get(name), p.toFloatArray(), 0f, name));
        }
        Map<String, Safetensors.Tensor> optimizer = Safetensors.read(dir.resolve("run/checkpoint-3/" + Checkpoint.OPTIMIZER_FILE));
        for (Map.Entry<String, Safetensors.Tensor> e : optimizer.entrySet()) {
            float[] values = floats(e.getValue());
            for (float v : values) {
                assertEquals(0f, v, e.getKey() + ": moments and step counts stay at zero");
            }
        }
        Checkpoint.Resumed saved = Checkpoint.read(dir.resolve("run/checkpoint-3"), args);
        assertEquals(0, saved.scheduleStep(), "the schedule does not move on a skipped update");
        assertEquals(Math.pow(2, 57), saved.scaler().scale(), "scaler.json holds the scale");
    }

    @Test
    void fp16TrainingLearnsWithFloat32MasterWeights() throws Exception {
        TrainingArguments args = TrainerTest.quickArgs();
        args.fp16 = true;
        try (Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(SyntheticData.tinyConfig(0.1), root, 7)) {
            Trainer.Result result = new Trainer(model, args, TrainerTest.TRAIN, TrainerTest.EVAL).train();
            assertTrue(result.finalMetrics().accuracy() >= 0.9, "accuracy " + result.finalMetrics().accuracy());
            for (NDArray weight : model.namedParameters().values()) {
                assertEquals(ai.djl.ndarray.types.DataType.FLOAT32, weight.getDataType());
            }
            List<Object> losses = TrainerTest.losses(result);
            assertNotEquals(losses.get(0), losses.get(losses.size() - 1));
        }
    }

    static float[] floats(Safetensors.Tensor tensor) {
        java.nio.FloatBuffer buffer = tensor.data().duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float[] values = new float[buffer.remaining()];
        buffer.get(values);
        return values;
    }
}
