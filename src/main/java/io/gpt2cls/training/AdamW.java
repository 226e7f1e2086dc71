package io.gpt2cls.training;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

import io.gpt2cls.tensors.Safetensors;

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
 * identical. Gradient clipping (and, in mixed precision, unscaling) enters as the kernel's gradient
 * rescale factor.
 *
 * <p>The gradients are read from the arrays the caller names by parameter name: the parameters
 * themselves, or in mixed precision the float16 working copy's (cast to float32 here), so the
 * update always lands on the float32 weights ("master weights").
 *
 * <p>As in PyTorch, each parameter counts its own steps {@code t}: a parameter that got no gradient
 * in an update is not updated and its count stays. {@link #save}/{@link #load} write and read the
 * whole state ({@code exp_avg}, {@code exp_avg_sq}, {@code step} per parameter, PyTorch's names) as
 * safetensors, so a resumed run continues with the moments an uninterrupted one would have.
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

    /** One parameter's state; the moments are replaced (not copied into) when a checkpoint is loaded. */
    private static final class Slot {
        final String name;
        final PtNDArray param;
        final boolean decay;
        NDArray mean;
        NDArray variance;
        int step;

        Slot(String name, PtNDArray param, boolean decay, NDArray mean, NDArray variance) {
            this.name = name;
            this.param = param;
            this.decay = decay;
            this.mean = mean;
            this.variance = variance;
        }
    }

    /** Optimises {@code params} (the trainable ones, in the model's order). */
    public AdamW(Map<String, NDArray> params, NDManager parent, TrainingArguments args) {
        this.manager = parent.newSubManager();
        this.beta1 = args.adam_beta1;
        this.beta2 = args.adam_beta2;
        this.epsilon = args.adam_epsilon;
        this.weightDecay = args.weight_decay;
        params.forEach((name, p) -> slots.add(new Slot(name, (PtNDArray) p, decays(name),
                manager.zeros(p.getShape(), p.getDataType()),
                manager.zeros(p.getShape(), p.getDataType()))));
    }

    /** Hugging Face's rule: no decay for biases and LayerNorm weights (ln_1, ln_2, ln_f). */
    static boolean decays(String name) {
        return !(name.endsWith(".bias") || name.contains(".ln_") || name.startsWith("ln_"));
    }

    /**
     * Global L2 norm over the gradients of {@code gradientsOf}, as {@code clip_grad_norm_} computes
     * it: the norm of the per-parameter norms, read back once. Gradient handles are created on
     * {@code step} so they are freed with it. Infinite or NaN when a gradient overflowed.
     */
    public double gradientNorm(Map<String, NDArray> gradientsOf, NDManager step) {
        NDList norms = new NDList();
        for (Slot slot : slots) {
            NDArray grad = gradient(slot, gradientsOf, step);
            if (grad != null) {
                norms.add(grad.norm().reshape(1));
            }
        }
        return norms.isEmpty() ? 0 : NDArrays.concat(norms).norm().getFloat();
    }

    /**
     * One update with learning rate {@code lr} from the gradients of {@code gradientsOf}, first
     * multiplied by {@code gradScale} (the clipping coefficient, divided by the loss scale in mixed
     * precision); then zeroes those gradients for the next accumulation.
     */
    public void step(double lr, double gradScale, Map<String, NDArray> gradientsOf, NDManager stepManager) {
        for (Slot slot : slots) {
            PtNDArray grad = gradient(slot, gradientsOf, stepManager);
            if (grad == null) {
                continue; // parameter not reached by this batch's graph
            }
            slot.step++;
            double biasCorrection1 = 1 - Math.pow(beta1, slot.step);
            double sqrtBiasCorrection2 = Math.sqrt(1 - Math.pow(beta2, slot.step));
            float correctedLr = (float) (lr * sqrtBiasCorrection2 / biasCorrection1);
            float correctedEps = (float) (epsilon * sqrtBiasCorrection2);
            JniUtils.adamUpdate(slot.param, grad, (PtNDArray) slot.mean, (PtNDArray) slot.variance,
                    (float) lr, correctedLr, slot.decay ? (float) weightDecay : 0f, (float) gradScale,
                    -1f /* no per-element clamp */, (float) beta1, (float) beta2, correctedEps, true);
            JniUtils.zeroGrad((PtNDArray) gradientsOf.get(slot.name));
        }
    }

    /** Drops the accumulated gradients without updating anything (a skipped mixed-precision update). */
    public void zeroGradients(Map<String, NDArray> gradientsOf) {
        for (Slot slot : slots) {
            JniUtils.zeroGrad((PtNDArray) gradientsOf.get(slot.name));
        }
    }

    /**
     * The gradient of {@code gradientsOf}'s array of this parameter, in the parameter's type, owned
     * by {@code step} (DJL would attach it to the array's manager); null when no graph reached it.
     */
    private static PtNDArray gradient(Slot slot, Map<String, NDArray> gradientsOf, NDManager step) {
        PtNDArray grad = JniUtils.getGradient((PtNDArray) gradientsOf.get(slot.name));
        if (grad == null) {
            return null;
        }
        grad.attach(step);
        if (grad.getDataType() != slot.param.getDataType()) {
            grad = grad.toType(slot.param.getDataType(), false);
            grad.attach(step);
        }
        return grad;
    }

    /**
     * Writes the state as safetensors: {@code <param>.exp_avg}, {@code <param>.exp_avg_sq} (F32, the
     * parameter's shape) and {@code <param>.step} (an F32 scalar, as PyTorch keeps it).
     */
    public void save(Path file) throws IOException {
        try (NDManager steps = NDManager.newBaseManager()) {
            Map<String, NDArray> arrays = new LinkedHashMap<>();
            for (Slot slot : slots) {
                arrays.put(slot.name + ".exp_avg", slot.mean);
                arrays.put(slot.name + ".exp_avg_sq", slot.variance);
                arrays.put(slot.name + ".step", steps.create((float) slot.step));
            }
            Safetensors.writeArrays(file, arrays, Map.of("optimizer", "AdamW", "betas", beta1 + "," + beta2,
                    "eps", String.valueOf(epsilon), "weight_decay", String.valueOf(weightDecay)));
        }
    }

    /** Replaces the state with the one {@link #save} wrote; every trainable parameter must have one. */
    public void load(Path file) throws IOException {
        Map<String, Safetensors.Tensor> tensors = Safetensors.read(file);
        for (Slot slot : slots) {
            Safetensors.Tensor mean = tensors.get(slot.name + ".exp_avg");
            Safetensors.Tensor variance = tensors.get(slot.name + ".exp_avg_sq");
            Safetensors.Tensor step = tensors.get(slot.name + ".step");
            if (mean == null || variance == null || step == null) {
                throw new TrainingException(file + " has no optimizer state for " + slot.name + ": the checkpoint was"
                        + " written with other trainable parameters (freeze_embeddings differs?); resume with the settings"
                        + " it was written with");
            }
            if (!new Shape(mean.shape()).equals(slot.param.getShape())) {
                throw new TrainingException(file + ": the optimizer state of " + slot.name + " has shape " + new Shape(mean.shape())
                        + " but the parameter has " + slot.param.getShape() + "; the checkpoint belongs to another model");
            }
            slot.mean.close();
            slot.variance.close();
            slot.mean = Safetensors.toNDArray(mean, manager, slot.name + ".exp_avg");
            slot.variance = Safetensors.toNDArray(variance, manager, slot.name + ".exp_avg_sq");
            slot.step = (int) step.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
