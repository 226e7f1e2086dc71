package io.gpt2cls.training;

import java.io.IOException;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
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
 * On the CPU ({@link HostUpdate}) this runs as PyTorch writes it, in one pass over the tensors'
 * own memory. On an accelerator it runs as DJL's fused JNI kernel, which computes
 * {@code p -= lrc * m / (sqrt(v) + eps')} instead; passing {@code lrc = lr sqrt(1 - b2^t) / (1 - b1^t)}
 * and {@code eps' = eps sqrt(1 - b2^t)} makes the two identical. Gradient clipping (and, in mixed
 * precision, unscaling) enters as a factor on the gradient.
 *
 * <p>The host path needs the parameters, gradients and moments contiguous, as this project creates
 * them (a gradient takes its parameter's layout in libtorch): it reads and writes their memory
 * directly.
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
        /** For a float32 parameter in host memory, its and its moments' elements; null on an accelerator. */
        FloatBuffer paramFloats;
        FloatBuffer meanFloats;
        FloatBuffer varianceFloats;

        Slot(String name, PtNDArray param, boolean decay, NDArray mean, NDArray variance) {
            this.name = name;
            this.param = param;
            this.decay = decay;
            setMoments(mean, variance);
        }

        void setMoments(NDArray mean, NDArray variance) {
            this.mean = mean;
            this.variance = variance;
            boolean onHost = Device.cpu().equals(param.getDevice()) && param.getDataType() == DataType.FLOAT32;
            paramFloats = onHost ? floatsInPlace(param, name) : null;
            meanFloats = onHost ? floatsInPlace(mean, name + ".exp_avg") : null;
            varianceFloats = onHost ? floatsInPlace(variance, name + ".exp_avg_sq") : null;
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
        List<HostUpdate> onHost = new ArrayList<>();
        for (Slot slot : slots) {
            PtNDArray grad = gradient(slot, gradientsOf, stepManager);
            if (grad == null) {
                continue; // parameter not reached by this batch's graph
            }
            slot.step++;
            double biasCorrection1 = 1 - Math.pow(beta1, slot.step);
            double sqrtBiasCorrection2 = Math.sqrt(1 - Math.pow(beta2, slot.step));
            double decay = slot.decay ? weightDecay : 0;
            if (slot.paramFloats != null) {
                onHost.add(new HostUpdate(slot.paramFloats, floats(grad), slot.meanFloats, slot.varianceFloats,
                        (float) (1 - lr * decay), (float) gradScale, (float) (1 - beta1), (float) beta2, (float) (1 - beta2),
                        (float) (lr / biasCorrection1), (float) sqrtBiasCorrection2, (float) epsilon));
            } else {
                float correctedLr = (float) (lr * sqrtBiasCorrection2 / biasCorrection1);
                float correctedEps = (float) (epsilon * sqrtBiasCorrection2);
                JniUtils.adamUpdate(slot.param, grad, (PtNDArray) slot.mean, (PtNDArray) slot.variance,
                        (float) lr, correctedLr, (float) decay, (float) gradScale,
                        -1f /* no per-element clamp */, (float) beta1, (float) beta2, correctedEps, true);
            }
        }
        List<HostUpdate.Piece> pieces = new ArrayList<>();
        onHost.forEach(update -> update.cut(pieces));
        pieces.parallelStream().forEach(HostUpdate.Piece::apply); // memory-bound: every core takes pieces
        zeroGradients(gradientsOf);
    }

    /**
     * PyTorch's {@code _single_tensor_adamw} for one parameter in host memory, in one pass over the
     * memory libtorch keeps the tensors in (DJL's kernel makes about a dozen passes and six temporary
     * tensors of the parameter's size: 1.1 s an update on GPT-2 small where this takes 0.3, PyTorch
     * 0.45; BENCHMARKS.md). The operations are PyTorch's, in its order: decay, {@code lerp_} of the
     * mean, {@code addcmul_} of the variance, {@code addcdiv_} with the bias-corrected denominator.
     * Equal to PyTorch's within float rounding, not to the bit: its vectorised {@code lerp_} fuses a
     * multiply-add that this rounds twice (1 ulp of the mean, here and there).
     */
    private record HostUpdate(FloatBuffer param, FloatBuffer grad, FloatBuffer mean, FloatBuffer variance,
                              float decayFactor, float gradScale, float beta1Complement, float beta2, float beta2Complement,
                              float stepSize, float sqrtBiasCorrection2, float epsilon) {

        /** Elements per piece: a piece's four float arrays (256 KB) stay in a core's L2 cache. */
        static final int PIECE = 1 << 14;

        /** Each thread's copies of one piece of the parameter, its gradient and its two moments. */
        static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[4][PIECE]);

        record Piece(HostUpdate update, int from, int to) {
            void apply() {
                update.apply(from, to);
            }
        }

        void cut(List<Piece> pieces) {
            for (int from = 0; from < grad.capacity(); from += PIECE) {
                pieces.add(new Piece(this, from, Math.min(grad.capacity(), from + PIECE)));
            }
        }

        void apply(int from, int to) {
            float[][] scratch = SCRATCH.get();
            float[] p = scratch[0];
            float[] g = scratch[1];
            float[] m = scratch[2];
            float[] v = scratch[3];
            int n = to - from;
            param.get(from, p, 0, n);
            grad.get(from, g, 0, n);
            mean.get(from, m, 0, n);
            variance.get(from, v, 0, n);
            for (int i = 0; i < n; i++) {
                float gi = g[i] * gradScale;
                m[i] = m[i] + beta1Complement * (gi - m[i]);
                v[i] = v[i] * beta2 + beta2Complement * gi * gi;
                float denominator = (float) Math.sqrt(v[i]) / sqrtBiasCorrection2 + epsilon;
                p[i] = p[i] * decayFactor + -stepSize * m[i] / denominator;
            }
            param.put(from, p, 0, n);
            mean.put(from, m, 0, n);
            variance.put(from, v, 0, n);
        }
    }

    /** The float32 elements of a host array; libtorch's own memory when it is contiguous, else a copy. */
    private static FloatBuffer floats(NDArray array) {
        return array.toByteBuffer(true).asFloatBuffer();
    }

    /**
     * {@link #floats} of an array the update writes, checked to be the array's own memory: DJL would
     * hand a non-contiguous array's elements over as a copy, and the update would be lost silently.
     */
    private static FloatBuffer floatsInPlace(NDArray array, String name) {
        FloatBuffer floats = floats(array);
        if (floats.capacity() == 0) {
            return floats; // nothing to update, nothing to probe
        }
        float first = floats.get(0);
        float probe = first == 1f ? 2f : 1f;
        floats.put(0, probe);
        boolean same = array.getFloat(new long[array.getShape().dimension()]) == probe;
        floats.put(0, first);
        if (!same) {
            throw new IllegalStateException("AdamW updates " + name + " in place, but its array is not contiguous"
                    + " (shape " + array.getShape() + "); create it contiguous");
        }
        return floats;
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
            slot.setMoments(Safetensors.toNDArray(mean, manager, slot.name + ".exp_avg"),
                    Safetensors.toNDArray(variance, manager, slot.name + ".exp_avg_sq"));
            slot.step = (int) step.data().duplicate().order(ByteOrder.LITTLE_ENDIAN).getFloat(0);
        }
    }

    @Override
    public void close() {
        manager.close();
    }
}
