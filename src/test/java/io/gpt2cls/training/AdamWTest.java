package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;

import io.gpt2cls.runtime.NativeRuntime;

class AdamWTest {

    static final double LR = 0.01;
    static final double WD = 0.1;

    /** torch.optim.AdamW's update, written out in double precision. */
    static double[] torchAdamW(double[] p, double[][] grads, double lr, double wd) {
        double[] param = p.clone();
        double[] m = new double[p.length];
        double[] v = new double[p.length];
        for (int t = 1; t <= grads.length; t++) {
            double bc1 = 1 - Math.pow(0.9, t);
            double bc2 = 1 - Math.pow(0.999, t);
            for (int i = 0; i < p.length; i++) {
                double g = grads[t - 1][i];
                param[i] *= 1 - lr * wd;
                m[i] = 0.9 * m[i] + 0.1 * g;
                v[i] = 0.999 * v[i] + 0.001 * g * g;
                param[i] -= lr / bc1 * m[i] / (Math.sqrt(v[i]) / Math.sqrt(bc2) + 1e-8);
            }
        }
        return param;
    }

    static void setGradient(NDManager manager, NDArray param, double[] gradient) {
        try (NDManager step = manager.newSubManager(); GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            float[] g = new float[gradient.length];
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) gradient[i];
            }
            collector.backward(step.create(g, param.getShape()).mul(param).sum()); // d/dp sum(g * p) = g
        }
    }

    @Test
    void threeStepsMatchTorchAdamWWithDecoupledDecay() {
        NativeRuntime.init();
        double[] start = {1.0, -2.0, 0.5, 3.0};
        double[][] grads = {{0.1, -0.2, 0.3, 1e-4}, {-0.5, 0.25, 0.0, 2.0}, {0.05, 0.05, -1.0, -0.3}};
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray weight = manager.create(new float[] {1.0f, -2.0f, 0.5f, 3.0f});
            NDArray bias = manager.create(new float[] {1.0f, -2.0f, 0.5f, 3.0f});
            weight.setRequiresGradient(true);
            bias.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("transformer.h.0.mlp.c_fc.weight", weight);
            params.put("transformer.h.0.mlp.c_fc.bias", bias);
            TrainingArguments args = new TrainingArguments();
            args.weight_decay = WD;
            try (AdamW optimizer = new AdamW(params, manager, args)) {
                for (double[] g : grads) {
                    setGradient(manager, weight, g);
                    setGradient(manager, bias, g);
                    try (NDManager step = manager.newSubManager()) {
                        optimizer.step(LR, 1.0, params, step);
                    }
                }
            }
            double[] expectedDecayed = torchAdamW(start, grads, LR, WD);
            double[] expectedUndecayed = torchAdamW(start, grads, LR, 0.0);
            float[] actualWeight = weight.toFloatArray();
            float[] actualBias = bias.toFloatArray();
            for (int i = 0; i < start.length; i++) {
                assertEquals(expectedDecayed[i], actualWeight[i], 1e-6, "weight[" + i + "]");
                assertEquals(expectedUndecayed[i], actualBias[i], 1e-6, "bias[" + i + "]");
            }
            // the same three updates computed independently in Python (torch.optim.AdamW's formula)
            double[] python = {0.9969800033648565, -1.9878809027467748, 0.48645986491554777, 2.9688550540816507};
            for (int i = 0; i < start.length; i++) {
                assertEquals(python[i], actualWeight[i], 1e-6, "weight[" + i + "] vs python");
            }
        }
    }

    @Test
    void gradientScaleActsLikeClippedGradients() {
        NativeRuntime.init();
        double[][] grads = {{4.0, -3.0}};
        double[][] scaled = {{0.4, -0.3}};
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {0.5f, 0.5f});
            w.setRequiresGradient(true);
            Map<String, NDArray> params = Map.of("score.weight", w);
            try (AdamW optimizer = new AdamW(params, manager, new TrainingArguments())) {
                setGradient(manager, w, grads[0]);
                try (NDManager step = manager.newSubManager()) {
                    assertEquals(5.0, optimizer.gradientNorm(params, step), 1e-6);
                    optimizer.step(LR, 0.1, params, step);
                }
            }
            double[] expected = torchAdamW(new double[] {0.5, 0.5}, scaled, LR, 0.01);
            assertEquals(expected[0], w.toFloatArray()[0], 1e-6);
            assertEquals(expected[1], w.toFloatArray()[1], 1e-6);
        }
    }

    @Test
    void aParameterOfManyPiecesIsUpdatedInEveryElementAndItsGradientCleared() {
        NativeRuntime.init();
        int rows = 3;
        int columns = 20_001; // 60,003 elements: several of the host update's pieces, the last one partial
        java.util.Random random = new java.util.Random(7);
        double[] start = new double[rows * columns];
        float[] startFloats = new float[start.length];
        for (int i = 0; i < start.length; i++) {
            startFloats[i] = (float) random.nextGaussian();
            start[i] = startFloats[i];
        }
        double[][] grads = new double[2][start.length];
        double[][] scaled = new double[2][start.length];
        for (double[] g : grads) {
            for (int i = 0; i < g.length; i++) {
                g[i] = (float) (random.nextGaussian() * 0.1);
            }
        }
        for (int t = 0; t < grads.length; t++) {
            for (int i = 0; i < start.length; i++) {
                scaled[t][i] = (float) grads[t][i] * 0.5f;
            }
        }
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(startFloats, new ai.djl.ndarray.types.Shape(rows, columns));
            w.setRequiresGradient(true);
            Map<String, NDArray> params = Map.of("transformer.h.0.mlp.c_fc.weight", w);
            TrainingArguments args = new TrainingArguments();
            args.weight_decay = WD;
            try (AdamW optimizer = new AdamW(params, manager, args)) {
                for (double[] g : grads) {
                    setGradient(manager, w, g);
                    try (NDManager step = manager.newSubManager()) {
                        optimizer.step(LR, 0.5, params, step);
                    }
                }
            }
            double[] expected = torchAdamW(start, scaled, LR, WD);
            float[] actual = w.toFloatArray();
            for (int i = 0; i < start.length; i++) {
                assertEquals(expected[i], actual[i], 1e-6, "element " + i);
            }
            for (float g : w.getGradient().toFloatArray()) {
                assertEquals(0f, g, "the gradient is cleared for the next accumulation");
            }
        }
    }

    @Test
    void aParameterThatIsNotContiguousIsRefusedRatherThanUpdatedInACopy() {
        NativeRuntime.init();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray transposed = manager.create(new float[] {1, 2, 3, 4, 5, 6}, new ai.djl.ndarray.types.Shape(2, 3)).transpose();
            IllegalStateException refused = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                    () -> new AdamW(Map.of("score.weight", transposed), manager, new TrainingArguments()).close());
            assertTrue(refused.getMessage().contains("score.weight"), refused.getMessage());
            assertEquals(1f, transposed.getFloat(0, 0), "the probe leaves the array as it was");
        }
    }

    @Test
    void gradientNormIsTheL2NormOverEveryElementOfEveryParameter() {
        NativeRuntime.init();
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray matrix = manager.create(new float[][] {{1f, 1f}, {1f, 1f}});
            NDArray vector = manager.create(new float[] {1f});
            matrix.setRequiresGradient(true);
            vector.setRequiresGradient(true);
            Map<String, NDArray> params = new LinkedHashMap<>();
            params.put("transformer.h.0.mlp.c_fc.weight", matrix);
            params.put("transformer.h.0.mlp.c_fc.bias", vector);
            try (AdamW optimizer = new AdamW(params, manager, new TrainingArguments())) {
                setGradient(manager, matrix, new double[] {3, 4, 0, 0});
                setGradient(manager, vector, new double[] {12});
                try (NDManager step = manager.newSubManager()) {
                    assertEquals(13.0, optimizer.gradientNorm(params, step), 1e-6); // sqrt(9 + 16 + 144)
                }
            }
        }
    }

    @Test
    void savedStateLoadsIntoAFreshOptimizerThatContinuesIdentically(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws Exception {
        NativeRuntime.init();
        double[][] grads = {{0.1, -0.2, 0.3, 1e-4}, {-0.5, 0.25, 0.0, 2.0}, {0.05, 0.05, -1.0, -0.3}};
        float[] continued;
        float[] resumed;
        try (NDManager manager = NDManager.newBaseManager()) {
            NDArray w = manager.create(new float[] {1.0f, -2.0f, 0.5f, 3.0f});
            w.setRequiresGradient(true);
            Map<String, NDArray> params = Map.of("score.weight", w);
            float[] afterTwo;
            try (AdamW optimizer = new AdamW(params, manager, new TrainingArguments())) {
                for (int t = 0; t < 2; t++) {
                    setGradient(manager, w, grads[t]);
                    try (NDManager step = manager.newSubManager()) {
                        optimizer.step(LR, 1.0, params, step);
                    }
                }
                optimizer.save(dir.resolve("optimizer.safetensors"));
                afterTwo = w.toFloatArray();
                setGradient(manager, w, grads[2]);
                try (NDManager step = manager.newSubManager()) {
                    optimizer.step(LR, 1.0, params, step);
                }
                continued = w.toFloatArray();
            }
            NDArray w2 = manager.create(afterTwo);
            w2.setRequiresGradient(true);
            Map<String, NDArray> params2 = Map.of("score.weight", w2);
            try (AdamW optimizer = new AdamW(params2, manager, new TrainingArguments())) {
                optimizer.load(dir.resolve("optimizer.safetensors"));
                setGradient(manager, w2, grads[2]);
                try (NDManager step = manager.newSubManager()) {
                    optimizer.step(LR, 1.0, params2, step);
                }
                resumed = w2.toFloatArray();
            }
        }
        org.junit.jupiter.api.Assertions.assertArrayEquals(continued, resumed, 0f, "moments and step count t=2 restored");
        java.util.Map<String, io.gpt2cls.tensors.Safetensors.Tensor> saved =
                io.gpt2cls.tensors.Safetensors.read(dir.resolve("optimizer.safetensors"));
        assertEquals(java.util.Set.of("score.weight.exp_avg", "score.weight.exp_avg_sq", "score.weight.step"), saved.keySet());
        assertEquals(2f, MixedPrecisionTest.floats(saved.get("score.weight.step"))[0], "torch keeps step as a float32 scalar");
    }

    @Test
    void decayGroupsFollowHuggingFace() {
        assertTrue(AdamW.decays("transformer.wte.weight"));
        assertTrue(AdamW.decays("transformer.wpe.weight"));
        assertTrue(AdamW.decays("transformer.h.3.attn.c_attn.weight"));
        assertTrue(AdamW.decays("score.weight"));
        assertFalse(AdamW.decays("transformer.h.3.attn.c_attn.bias"));
        assertFalse(AdamW.decays("transformer.h.0.ln_1.weight"));
        assertFalse(AdamW.decays("transformer.h.0.ln_2.weight"));
        assertFalse(AdamW.decays("transformer.ln_f.weight"));
    }
}
