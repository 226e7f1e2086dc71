package io.gpt2cls.training;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * {@code torch.optim.AdamW} with Hugging Face Trainer's parameter groups: weight decay only for
 * weights that are not biases or LayerNorm weights.
 *
 * <p>Per parameter, PyTorch computes
 * <pre>
 *   p -= lr * wd * p                      (decoupled decay)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
 *   p -= lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * </pre>
 * DJL's fused JNI kernel computes {@code p -= lrc * m / (sqrt(v) + eps')} instead; passing
 * {@code lrc = lr sqrt(1 - b2^t) / (1 - b1^t)} and {@code eps' = eps sqrt(1 - b2^t)} makes the two
 * identical. Gradient clipping enters as the kernel's gradient rescale factor.
 *
 * <p>Owns its moment buffers on its own manager; {@link #close()} frees them.
 */
public final class AdamW implements AutoCloseable {

    private final List<Slot> slots = new ArrayList<>();
    private final NDManager manager;
    private final double beta1;
    private final double beta2;
    private final double epsilon;
    private final double weightDecay;
    private int step;

    private record Slot(String name, PtNDArray param, NDArray mean, NDArray variance, boolean decay) {}

    public AdamW(Map<String, NDArray> params, NDManager parent, TrainingArguments args) {
        this.manager = parent.newSubManager();
        this.beta1 = args.adam_beta1;
        this.beta2 = args.adam_beta2;
        this.epsilon = args.adam_epsilon;
        this.weightDecay = args.weight_decay;
        params.forEach((name, p) -> slots.add(new Slot(name, (PtNDArray) p,
                manager.zeros(p.getShape(), p.getDataType()),
                manager.zeros(p.getShape(), p.getDataType()),
                decays(name))));
    }

    /** Hugging Face's rule: no decay for biases and LayerNorm weights (ln_1, ln_2, ln_f). */
    static boolean decays(String name) {
        return !(name.endsWith(".bias") || name.contains(".ln_") || name.startsWith("ln_"));
    }

    /**
     * Global L2 norm over all parameter gradients, as {@code clip_grad_norm_} computes it. Gradient
     * handles are created on {@code step} so they are freed with it.
     */
    public double gradientNorm(NDManager step) {
        double sumOfSquares = 0;
        for (Slot slot : slots) {
            NDArray grad = gradient(slot, step);
            if (grad != null) {
                sumOfSquares += grad.mul(grad).sum().getFloat();
            }
        }
        return Math.sqrt(sumOfSquares);
    }

    /**
     * One update with learning rate {@code lr}, gradients first multiplied by {@code gradScale}
     * (the clipping coefficient); then zeroes the gradients for the next accumulation.
     */
    public void step(double lr, double gradScale, NDManager stepManager) {
        step++;
        double biasCorrection1 = 1 - Math.pow(beta1, step);
        double sqrtBiasCorrection2 = Math.sqrt(1 - Math.pow(beta2, step));
        float correctedLr = (float) (lr * sqrtBiasCorrection2 / biasCorrection1);
        float correctedEps = (float) (epsilon * sqrtBiasCorrection2);
        for (Slot slot : slots) {
            PtNDArray grad = gradient(slot, stepManager);
            if (grad == null) {
                continue; // parameter not reached by this batch's graph
            }
            JniUtils.adamUpdate(slot.param(), grad, (PtNDArray) slot.mean(), (PtNDArray) slot.variance(),
                    (float) lr, correctedLr, slot.decay() ? (float) weightDecay : 0f, (float) gradScale,
                    -1f /* no per-element clamp */, (float) beta1, (float) beta2, correctedEps, true);
            JniUtils.zeroGrad(slot.param());
        }
    }

    /** The gradient of a parameter, owned by {@code step} (DJL would attach it to the parameter's manager). */
    private static PtNDArray gradient(Slot slot, NDManager step) {
        PtNDArray grad = JniUtils.getGradient(slot.param());
        if (grad != null) {
            grad.attach(step);
        }
        return grad;
    }

    @Override
    public void close() {
        manager.close();
    }
}
