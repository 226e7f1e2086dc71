package io.gpt2cls.model;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.Dropout;

/**
 * GPT-2 with a sequence-classification head: Hugging Face {@code GPT2ForSequenceClassification},
 * written the way nanoGPT's {@code model.py} reads. One small class per module, field names equal
 * to the checkpoint's names, the shape of every tensor in a comment.
 *
 * <p>The Hugging Face semantics, stated once where they are applied:
 * <ul>
 *   <li>{@link Conv1D} stores its weight as [in, out] and computes {@code x @ W + b}.</li>
 *   <li>{@code gelu_new} is the tanh approximation ({@link Mlp#act}).</li>
 *   <li>Attention scores are divided by sqrt(head_size) ({@code scale_attn_weights}) and, with
 *       {@code scale_attn_by_inverse_layer_idx}, by layer index + 1 ({@link Constants#attentionDivisor}),
 *       then get a causal mask and the padding mask from {@code attention_mask} ({@link #attentionBias}).</li>
 *   <li>Positions are 0..T-1 for every row: padding goes on the right.</li>
 *   <li>The score head (no bias) reads the hidden state of the rightmost token whose id is not
 *       {@code pad_token_id} ({@link #poolIndex}).</li>
 *   <li>Dropout is active only when {@code training} is true; otherwise the MLP's activation
 *       overwrites its input ({@link Mlp#actInPlace}): nothing needs it for a backward.</li>
 *   <li>A model computes in its weights' type: float32, or float16 in the working copy that
 *       mixed-precision training makes ({@link #castTo}); the loss is always float32.</li>
 * </ul>
 *
 * <p>Every module takes its weights from a {@link WeightSource} under the name {@code save_pretrained}
 * gives them; the source's record of what it handed out is {@link #namedParameters()}.
 *
 * <p>Ownership: every weight lives on this model's own {@link NDManager}, closed by {@link #close()}.
 * {@link #forward} puts the per-call tensor first in every op, so all activations land on the
 * caller's per-step manager and nothing accumulates on the model's.
 */
public final class Gpt2ForSequenceClassification implements AutoCloseable {

    /** Names of weights that a Hub checkpoint may carry and this model ignores. */
    static boolean isIgnoredWeight(String name) {
        return name.endsWith(".attn.bias") || name.endsWith(".attn.masked_bias") || name.equals("lm_head.weight");
    }

    public final Gpt2Config config;
    private final NDManager manager;
    final Gpt2Model transformer;
    final NDArray score; // (num_labels, n_embd), nn.Linear layout, no bias
    private final Map<String, NDArray> parameters;
    /** The products' weights in MKL's layout, once {@link #packForServing} has run; their memory is not the manager's. */
    private final List<PackedWeight> packedWeights = new ArrayList<>();

    /** The result of one forward pass; the arrays live on the manager of the call. */
    public record Output(NDArray logits, NDArray pooledHidden, int[] poolIndex) {}

    /** Builds the model with weights made by {@code maker} under {@code save_pretrained} names, on {@code manager}. */
    Gpt2ForSequenceClassification(Gpt2Config config, NDManager manager, WeightSource.Maker maker) {
        WeightSource weights = new WeightSource(maker);
        this.config = config;
        this.manager = manager;
        this.transformer = new Gpt2Model("transformer", config, weights);
        this.score = weights.take("score.weight", config.numLabels(), config.n_embd);
        this.parameters = weights.taken();
    }

    /**
     * A freshly initialised model, as Hugging Face {@code _init_weights} does it: weights of
     * Conv1D, Linear and Embedding ~ N(0, initializer_range), the residual projections
     * ({@code c_proj.weight}) ~ N(0, initializer_range / sqrt(2 * n_layer)), biases 0, LayerNorm
     * weights 1. The same seed gives the same weights.
     */
    public static Gpt2ForSequenceClassification randomInit(Gpt2Config config, NDManager parent, long seed) {
        NDManager manager = parent.newSubManager();
        Random random = new Random(seed);
        double std = config.initializer_range;
        double residualStd = std / Math.sqrt(2.0 * config.n_layer);
        WeightSource.Maker weights = (name, shape) -> {
            float[] values = new float[Math.toIntExact(shape.size())];
            if (name.endsWith(".bias")) {
                return manager.create(values, shape);
            }
            if (name.contains("ln_")) {
                Arrays.fill(values, 1f);
                return manager.create(values, shape);
            }
            double sigma = name.endsWith("c_proj.weight") ? residualStd : std;
            for (int i = 0; i < values.length; i++) {
                values[i] = (float) (random.nextGaussian() * sigma);
            }
            return manager.create(values, shape);
        };
        return new Gpt2ForSequenceClassification(config, manager, weights);
    }

    /**
     * Runs the classifier on a right-padded batch. All results and intermediates are created on
     * {@code step}; the caller closes it after it has read them (and after backward, in training).
     */
    public Output forward(TokenBatch batch, NDManager step, boolean training) {
        if (training) {
            requireUnpacked("it trains");
        }
        int b = batch.batchSize();
        int t = batch.seqLen();
        Inputs in = inputs(batch, step);
        DataType type = score.getDataType(); // float32; float16 in a mixed-precision working copy
        NDArray bias = in.bias().toType(type, false); // -1e9 is -inf in float16

        NDArray hidden = transformer.forward(in.ids(), bias, in.c(), training); // (B, T, C)

        int[] poolIndex = poolIndex(batch);
        NDArray pooled = gather(poolIndex, t, step).toType(type, false) // (B, 1, T)
                .matMul(hidden) // (B, 1, C)
                .reshape(b, config.n_embd); // (B, C)
        NDArray logits = Linear.linear(pooled, score, null).singletonOrThrow(); // (B, num_labels)
        return new Output(logits, pooled, poolIndex);
    }

    /** Label probabilities (softmax of the logits) per row, for evaluation and serving ({@link #pooledLogits}). */
    public float[][] probabilities(TokenBatch batch, NDManager step) {
        float[] flat = pooledLogits(batch, step).softmax(-1).toFloatArray();
        int labels = config.numLabels();
        float[][] rows = new float[batch.batchSize()][labels];
        for (int r = 0; r < rows.length; r++) {
            System.arraycopy(flat, r * labels, rows[r], 0, labels);
        }
        return rows;
    }

    /**
     * The logits of {@link #forward} without what the score head never reads: inference only (no
     * dropout; the caller has autograd off). The head reads one position per row, and in the last
     * block a position depends on the others only through its attention's keys and values. So the
     * last block computes keys and values at every position, but the query, the attention row,
     * {@code c_proj}, the MLP and {@code ln_f} at the pooled position alone: about 1/n_layer of the
     * forward's work less. Equal to {@link #forward}'s logits up to float rounding.
     */
    public NDArray pooledLogits(TokenBatch batch, NDManager step) {
        int b = batch.batchSize();
        Inputs in = inputs(batch, step);
        int[] poolIndex = poolIndex(batch);
        NDArray pooled = transformer.forwardAt(in.ids(), in.bias(), gather(poolIndex, batch.seqLen(), step),
                pooledQueryBias(batch, poolIndex, step), in.c()); // (B, 1, C)
        return Linear.linear(pooled.reshape(b, config.n_embd), score, null).singletonOrThrow(); // (B, num_labels)
    }

    /** What both forwards start from, on {@code step}: the ids (B, T), the attention bias (B, 1, T, T), the constants. */
    private record Inputs(NDArray ids, NDArray bias, Constants c) {}

    private Inputs inputs(TokenBatch batch, NDManager step) {
        int b = batch.batchSize();
        int t = batch.seqLen();
        requireFits(t);
        Constants c = new Constants(step, config);
        NDArray ids = step.create(batch.inputIdsAsLongs(), new Shape(b, t)); // (B, T)
        NDArray keep = step.create(batch.attentionMaskAsFloats(), new Shape(b, 1, 1, t)); // (B, 1, 1, T)
        return new Inputs(ids, attentionBias(keep, t, step, c), c);
    }

    private void requireFits(int t) {
        if (t > config.n_positions) {
            throw new IllegalArgumentException("rows of " + t + " tokens are longer than n_positions ("
                    + config.n_positions + "); truncate them to at most " + config.n_positions);
        }
    }

    /** Picks position {@code poolIndex[row]} of each row by a matMul: (B, 1, T), one 1 per row. */
    private static NDArray gather(int[] poolIndex, int t, NDManager step) {
        float[] oneHot = new float[poolIndex.length * t];
        for (int row = 0; row < poolIndex.length; row++) {
            oneHot[row * t + poolIndex[row]] = 1f;
        }
        return step.create(oneHot, new Shape(poolIndex.length, 1, t));
    }

    /** {@link #attentionBias}'s row at each row's pooled query: (B, 1, 1, T). */
    private static NDArray pooledQueryBias(TokenBatch batch, int[] poolIndex, NDManager step) {
        int t = batch.seqLen();
        float[] bias = new float[batch.batchSize() * t];
        for (int row = 0; row < batch.batchSize(); row++) {
            for (int key = 0; key < t; key++) {
                boolean visible = key <= poolIndex[row] && batch.attentionMask()[row * t + key] == 1;
                bias[row * t + key] = visible ? 0f : -MASKED_SCORE;
            }
        }
        return step.create(bias, new Shape(batch.batchSize(), 1, 1, t));
    }

    /**
     * The position the score head reads in each row: the rightmost token whose id is not
     * {@code pad_token_id} (0 when a row is all padding), as current Hugging Face does. With no
     * pad token the last position is used.
     */
    public int[] poolIndex(TokenBatch batch) {
        int[] index = new int[batch.batchSize()];
        for (int row = 0; row < batch.batchSize(); row++) {
            if (config.pad_token_id == null) {
                index[row] = batch.seqLen() - 1;
                continue;
            }
            for (int pos = batch.seqLen() - 1; pos >= 0; pos--) {
                if (batch.id(row, pos) != config.pad_token_id) {
                    index[row] = pos;
                    break;
                }
            }
        }
        return index;
    }

    /** What a score a query must not see gets subtracted: exp() of it is 0 in float. */
    private static final float MASKED_SCORE = 1e9f;

    /** Additive attention bias: 0 where query i may see key j (j <= i and j is not padding), else -1e9. */
    private static NDArray attentionBias(NDArray keep, int t, NDManager step, Constants c) {
        NDArray query = step.arange(0, t, 1, DataType.INT64).reshape(t, 1); // (T, 1)
        NDArray key = step.arange(0, t, 1, DataType.INT64).reshape(1, t); // (1, T)
        NDArray causal = key.lte(query).toType(DataType.FLOAT32, false).reshape(1, 1, t, t); // (1, 1, T, T)
        return causal.mul(keep).sub(c.one).mul(c.maskedScore); // (B, 1, T, T)
    }

    /** Mean cross-entropy of {@code logits} (B, L) against integer labels, on the logits' manager. */
    public static NDArray crossEntropy(NDArray logits, int[] labels) {
        int numLabels = Math.toIntExact(logits.getShape().get(1));
        float[] target = new float[labels.length * numLabels];
        for (int row = 0; row < labels.length; row++) {
            target[row * numLabels + labels[row]] = 1f;
        }
        NDArray oneHot = logits.getManager().create(target, new Shape(labels.length, numLabels));
        if (logits.getDataType() != DataType.FLOAT32) {
            // float16 -> float32 by type promotion, which autograd follows (DJL's toType records no gradient)
            logits = logits.add(logits.getManager().zeros(logits.getShape()));
        }
        return logits.logSoftmax(-1).mul(oneHot).sum(new int[] {1}).mean().neg();
    }

    /**
     * A working copy in {@code type} (float16 for mixed-precision training): the same modules, each
     * weight cast, on a sub-manager of {@code parent}, freed by closing the copy. Training computes
     * forward and backward on the copy and applies its gradients to this model's float32 weights.
     */
    public Gpt2ForSequenceClassification castTo(DataType type, NDManager parent) {
        requireUnpacked("it is copied");
        NDManager copyManager = parent.newSubManager();
        return new Gpt2ForSequenceClassification(config, copyManager, (name, shape) -> {
            NDArray cast = parameters.get(name).toType(type, true);
            cast.attach(copyManager);
            return cast;
        });
    }

    /**
     * Readies this model to serve: every block's four matrix products take their weights in MKL's packed
     * layout ({@link PackedWeight}: products 1.3x faster at 64 rows, 1.7x at 16), and the plain copies
     * are freed, so the model holds about the memory it held. From then on it runs inference only: a training
     * forward, {@link #namedParameters()} (saving, training, a working copy) refuse. Changes nothing and
     * answers false where the weights cannot be packed (not float32 on the CPU; a libtorch without MKL) or
     * MKL's packed products disagree with the plain ones on this CPU ({@link PackedWeight#agreesWithPlain}).
     * Call it before the model is shared: a forward running meanwhile could read a weight being dropped.
     */
    public synchronized boolean packForServing() {
        if (!packedWeights.isEmpty()) {
            return true;
        }
        List<Conv1D> products = new ArrayList<>();
        for (Block block : transformer.h) {
            products.addAll(List.of(block.attn.c_attn, block.attn.c_proj, block.mlp.c_fc, block.mlp.c_proj));
        }
        if (products.isEmpty()) {
            return false;
        }
        // The first product of each weight shape is packed and checked before any plain weight is dropped (the
        // smallest shape at every row count the check knows); that packed weight then serves the product. What no
        // product took (a failed check, or a failure part way) is freed at the end.
        Shape smallest = products.stream().map(product -> product.weight.getShape()).min(Comparator.comparingLong(Shape::size)).orElseThrow();
        Map<Conv1D, PackedWeight> checked = new LinkedHashMap<>();
        Set<Shape> shapes = new HashSet<>();
        try {
            for (Conv1D product : products) {
                if (!PackedWeight.canPack(product.weight)) {
                    return false;
                }
                Shape shape = product.weight.getShape();
                if (shapes.add(shape)) {
                    PackedWeight packed = PackedWeight.of(product.weight);
                    checked.put(product, packed);
                    if (!PackedWeight.agreesWithPlain(packed, product.weight, shape.equals(smallest))) {
                        return false;
                    }
                }
            }
            for (Conv1D product : products) {
                PackedWeight packed = checked.containsKey(product) ? checked.remove(product) : PackedWeight.of(product.weight);
                packedWeights.add(packed); // close() frees it from here on, whatever fails next
                product.usePacked(packed); // one that fails part way (out of memory) leaves a model that still serves
            }
            return true;
        } finally {
            checked.values().forEach(PackedWeight::close);
        }
    }

    /** Whether {@link #packForServing} has run: the model then serves only. */
    public boolean packedForServing() {
        return !packedWeights.isEmpty();
    }

    /** Weights under the names {@code save_pretrained} writes, in the order the modules took them. */
    public Map<String, NDArray> namedParameters() {
        requireUnpacked("its weights are read");
        return parameters;
    }

    private void requireUnpacked(String what) {
        if (packedForServing()) {
            throw new IllegalStateException("this model was packed for serving (packForServing), so it cannot be used where " + what
                    + "; load the checkpoint again for that");
        }
    }

    public NDManager manager() {
        return manager;
    }

    public long parameterCount() {
        return namedParameters().values().stream().mapToLong(a -> a.getShape().size()).sum();
    }

    @Override
    public void close() {
        manager.close();
        packedWeights.forEach(PackedWeight::close);
    }

    /**
     * Scalars used inside {@link #forward}, created once per call on the call's manager.
     * NDArray.mul(Number) makes a temporary scalar that may be freed while autograd still needs it;
     * these live until the step's manager closes, after backward.
     */
    static final class Constants {
        final NDArray one;
        /** gelu_new's polynomial doubled, for its sigmoid form: 2 sqrt(2/pi) 0.044715 and 2 sqrt(2/pi). */
        final NDArray geluCubicTwice;
        final NDArray sqrtTwoOverPiTwice;
        /** Per layer, what its attention scores are divided by; null where that is 1. */
        final NDArray[] attentionDivisor;
        final NDArray maskedScore;

        Constants(NDManager step, Gpt2Config config) {
            one = step.create(1f);
            geluCubicTwice = step.create((float) (2 * Math.sqrt(2.0 / Math.PI) * 0.044715));
            sqrtTwoOverPiTwice = step.create((float) (2 * Math.sqrt(2.0 / Math.PI)));
            attentionDivisor = new NDArray[config.n_layer];
            for (int layer = 0; layer < config.n_layer; layer++) {
                double divisor = (config.scale_attn_weights ? Math.sqrt(config.headSize()) : 1.0)
                        * (config.scale_attn_by_inverse_layer_idx ? layer + 1 : 1);
                attentionDivisor[layer] = divisor == 1.0 ? null : step.create((float) divisor);
            }
            maskedScore = step.create(MASKED_SCORE);
        }
    }

    /**
     * Hands out weights by name and shape, and records each one it hands out. The modules take
     * their weights under the names {@code save_pretrained} writes, so the record, in the order
     * they were taken (module order, as transformers saves them), is the model's named parameters:
     * a name is written once, where a module declares its weight.
     */
    static final class WeightSource {

        /** Makes one weight on the model's manager: read from a checkpoint, or freshly initialised. */
        @FunctionalInterface
        interface Maker {
            NDArray make(String name, Shape shape);
        }

        private final Maker maker;
        private final Map<String, NDArray> taken = new LinkedHashMap<>();

        WeightSource(Maker maker) {
            this.maker = maker;
        }

        NDArray take(String name, long... shape) {
            NDArray weight = maker.make(name, new Shape(shape));
            if (taken.put(name, weight) != null) {
                throw new IllegalStateException("two modules took the weight " + name);
            }
            return weight;
        }

        Map<String, NDArray> taken() {
            return Collections.unmodifiableMap(new LinkedHashMap<>(taken));
        }
    }

    // ---------------------------------------------------------------- modules

    static final class LayerNorm {
        final NDArray weight; // (C)
        final NDArray bias; // (C)
        final float eps;

        LayerNorm(String name, Gpt2Config config, WeightSource weights) {
            weight = weights.take(name + ".weight", config.n_embd);
            bias = weights.take(name + ".bias", config.n_embd);
            eps = (float) config.layer_norm_epsilon;
        }

        NDArray forward(NDArray x) {
            return ai.djl.nn.norm.LayerNorm.layerNorm(x, weight.getShape(), weight, bias, eps).singletonOrThrow();
        }
    }

    /** Hugging Face's Conv1D: a linear layer whose weight is stored [in, out]. */
    static final class Conv1D {
        NDArray weight; // (in, out); freed once packed
        PackedWeight packed; // the weight in MKL's packed layout, in a model that only serves (packForServing)
        final NDArray bias; // (out)

        Conv1D(String name, int in, int out, WeightSource weights) {
            weight = weights.take(name + ".weight", in, out);
            bias = weights.take(name + ".bias", out);
        }

        NDArray forward(NDArray x) {
            if (packed != null) {
                return packed.times(x).addi(bias); // the product is a fresh array: the bias goes into it
            }
            return x.matMul(weight).add(bias); // (..., in) @ (in, out) -> (..., out)
        }

        /** Multiplies with {@code packedWeight} (this weight, packed) from now on; the plain weight is freed. */
        void usePacked(PackedWeight packedWeight) {
            packed = packedWeight;
            PackedWeight.discard(weight);
            weight = null;
        }
    }

    static final class CausalSelfAttention {
        final Conv1D c_attn; // C -> 3C: query, key, value for all heads
        final Conv1D c_proj; // C -> C
        final int layer;
        final int n_head;
        final int n_embd;
        final float attn_pdrop;
        final float resid_pdrop;

        CausalSelfAttention(String name, int layer, Gpt2Config config, WeightSource weights) {
            c_attn = new Conv1D(name + ".c_attn", config.n_embd, 3 * config.n_embd, weights);
            c_proj = new Conv1D(name + ".c_proj", config.n_embd, config.n_embd, weights);
            this.layer = layer;
            n_head = config.n_head;
            n_embd = config.n_embd;
            attn_pdrop = (float) config.attn_pdrop;
            resid_pdrop = (float) config.resid_pdrop;
        }

        NDArray forward(NDArray x, NDArray bias, Constants c, boolean training) {
            NDList qkv = c_attn.forward(x).split(3, 2); // 3 x (B, T, C)
            NDArray y = attend(heads(qkv.get(0)), heads(qkv.get(1)), heads(qkv.get(2)), bias, c, training); // (B, T, C)
            return dropout(c_proj.forward(y), resid_pdrop, training); // (B, T, C)
        }

        /** {@link #forward} for the one query per row that {@code gather} (B, 1, T) picks, keys and values from all T: (B, 1, C). */
        NDArray forwardAt(NDArray x, NDArray gather, NDArray queryBias, Constants c) {
            NDList qkv = c_attn.forward(x).split(3, 2); // 3 x (B, T, C)
            NDArray q = gather.matMul(qkv.get(0)); // (B, 1, C)
            return c_proj.forward(attend(heads(q), heads(qkv.get(1)), heads(qkv.get(2)), queryBias, c, false)); // (B, 1, C)
        }

        /** (B, T, C) -> (B, nh, T, hs) */
        private NDArray heads(NDArray x) {
            Shape shape = x.getShape();
            return x.reshape(shape.get(0), shape.get(1), n_head, n_embd / n_head).transpose(0, 2, 1, 3);
        }

        /** Softmax attention of queries (B, nh, Tq, hs) over keys and values (B, nh, T, hs), heads merged: (B, Tq, C). */
        private NDArray attend(NDArray q, NDArray k, NDArray v, NDArray bias, Constants c, boolean training) {
            if (c.attentionDivisor[layer] != null) {
                q = q.div(c.attentionDivisor[layer]); // the scores' scaling on q: (B, nh, Tq, hs) is no larger than (B, nh, Tq, T)
            }
            NDArray att = q.matMul(k.transpose(0, 1, 3, 2)); // (B, nh, Tq, T)
            att = att.add(bias).softmax(-1); // (B, nh, Tq, T)
            att = dropout(att, attn_pdrop, training);
            NDArray y = att.matMul(v); // (B, nh, Tq, hs)
            return y.transpose(0, 2, 1, 3).reshape(y.getShape().get(0), y.getShape().get(2), n_embd); // (B, Tq, C)
        }
    }

    static final class Mlp {
        static final java.util.Set<String> ACTIVATIONS = java.util.Set.of("gelu_new", "gelu_pytorch_tanh", "gelu", "relu");

        final Conv1D c_fc; // C -> inner
        final Conv1D c_proj; // inner -> C
        final String activation;
        final float resid_pdrop;

        Mlp(String name, Gpt2Config config, WeightSource weights) {
            c_fc = new Conv1D(name + ".c_fc", config.n_embd, config.innerSize(), weights);
            c_proj = new Conv1D(name + ".c_proj", config.innerSize(), config.n_embd, weights);
            activation = config.activation_function;
            resid_pdrop = (float) config.resid_pdrop;
            if (!ACTIVATIONS.contains(activation)) {
                throw new ModelFormatException("activation_function '" + activation
                        + "' is not supported; use one of " + ACTIVATIONS);
            }
        }

        NDArray forward(NDArray x, Constants c, boolean training) {
            NDArray h = c_fc.forward(x); // (B, T, inner)
            h = training ? act(h, c, activation) : actInPlace(h, c, activation); // (B, T, inner)
            return dropout(c_proj.forward(h), resid_pdrop, training); // (B, T, C)
        }

        /**
         * gelu_new (GPT-2's default) is 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), computed as
         * x sigmoid(2u) since 0.5 (1 + tanh(u)) = sigmoid(2u): DJL exposes no tanh GELU, and each op of
         * the chain is a kernel forward and one or two backward over the MLP's (B, T, 4C) tensors, so 6
         * ops instead of the tanh form's 9. DJL's Activation.gelu is the erf form, which Hugging Face
         * calls "gelu". Constants are NDArrays because mul(Number) makes a temporary scalar ({@link Constants}).
         */
        static NDArray act(NDArray x, Constants c, String activation) {
            switch (activation) {
                case "gelu":
                    return Activation.gelu(x);
                case "relu":
                    return Activation.relu(x);
                default: // gelu_new, gelu_pytorch_tanh: x sigmoid(2 sqrt(2/pi) (x + 0.044715 x^3))
                    return x.mul(Activation.sigmoid(x.mul(x).mul(c.geluCubicTwice).add(c.sqrtTwoOverPiTwice).mul(x)));
            }
        }

        /**
         * {@link #act} overwriting {@code x}, when no backward follows: the MLP's (B, T, 4C) tensors
         * are the forward's largest, and new tensors cost more than their arithmetic: 2 new tensors
         * instead of 6. Measured on GPT-2 small against the 9-op tanh chain: 10% of a forward at 64
         * tokens, 27% at 512 (BENCHMARKS.md).
         */
        static NDArray actInPlace(NDArray x, Constants c, String activation) {
            if (!activation.equals("gelu_new") && !activation.equals("gelu_pytorch_tanh")) {
                return act(x, c, activation);
            }
            NDArray twoU = x.mul(x).muli(c.geluCubicTwice).addi(c.sqrtTwoOverPiTwice).muli(x); // 2 sqrt(2/pi) (x + 0.044715 x^3)
            return x.muli(Activation.sigmoid(twoU));
        }
    }

    static final class Block {
        final LayerNorm ln_1;
        final CausalSelfAttention attn;
        final LayerNorm ln_2;
        final Mlp mlp;

        Block(String name, int layer, Gpt2Config config, WeightSource weights) {
            ln_1 = new LayerNorm(name + ".ln_1", config, weights);
            attn = new CausalSelfAttention(name + ".attn", layer, config, weights);
            ln_2 = new LayerNorm(name + ".ln_2", config, weights);
            mlp = new Mlp(name + ".mlp", config, weights);
        }

        NDArray forward(NDArray x, NDArray bias, Constants c, boolean training) {
            x = x.add(attn.forward(ln_1.forward(x), bias, c, training)); // pre-LN residual, (B, T, C)
            return x.add(mlp.forward(ln_2.forward(x), c, training)); // (B, T, C)
        }

        /** {@link #forward} at the one position per row that {@code gather} (B, 1, T) picks: (B, 1, C). */
        NDArray forwardAt(NDArray x, NDArray gather, NDArray queryBias, Constants c) {
            NDArray at = gather.matMul(x); // (B, 1, C)
            at = at.add(attn.forwardAt(ln_1.forward(x), gather, queryBias, c)); // (B, 1, C)
            return at.add(mlp.forward(ln_2.forward(at), c, false)); // (B, 1, C)
        }
    }

    /** The GPT-2 trunk ({@code transformer.*} in checkpoints). */
    static final class Gpt2Model {
        final NDArray wte; // (vocab, C) token embeddings
        final NDArray wpe; // (n_positions, C) position embeddings
        final List<Block> h = new ArrayList<>();
        final LayerNorm ln_f;
        final float embd_pdrop;

        Gpt2Model(String name, Gpt2Config config, WeightSource weights) {
            wte = weights.take(name + ".wte.weight", config.vocab_size, config.n_embd);
            wpe = weights.take(name + ".wpe.weight", config.n_positions, config.n_embd);
            for (int i = 0; i < config.n_layer; i++) {
                h.add(new Block(name + ".h." + i, i, config, weights));
            }
            ln_f = new LayerNorm(name + ".ln_f", config, weights);
            embd_pdrop = (float) config.embd_pdrop;
        }

        NDArray forward(NDArray ids, NDArray bias, Constants c, boolean training) {
            NDArray x = embed(ids, training); // (B, T, C)
            for (Block block : h) {
                x = block.forward(x, bias, c, training);
            }
            return ln_f.forward(x); // (B, T, C)
        }

        /**
         * The final hidden state at the one position per row that {@code gather} (B, 1, T) picks: (B, 1, C);
         * no dropout. Each block runs on a scope of its own that keeps only its output, so memory holds
         * one block's intermediates, not the whole forward's (nothing needs them: no backward follows).
         */
        NDArray forwardAt(NDArray ids, NDArray bias, NDArray gather, NDArray queryBias, Constants c) {
            NDManager step = ids.getManager();
            NDArray x = embed(ids, false); // (B, T, C)
            for (Block block : h.subList(0, h.size() - 1)) {
                try (NDManager scope = step.newSubManager()) {
                    x.attach(scope); // the previous block's output goes with this block's intermediates
                    x = block.forward(x, bias, c, false); // (B, T, C), on the scope: every op puts x first
                    x.attach(step);
                }
            }
            return ln_f.forward(h.get(h.size() - 1).forwardAt(x, gather, queryBias, c)); // (B, 1, C)
        }

        private NDArray embed(NDArray ids, boolean training) {
            long t = ids.getShape().get(1);
            NDArray positions = ids.getManager().arange(0, (int) t, 1, DataType.INT64); // (T)
            NDArray tok = Embedding.embedding(ids, wte, SparseFormat.DENSE).singletonOrThrow(); // (B, T, C)
            NDArray pos = Embedding.embedding(positions, wpe, SparseFormat.DENSE).singletonOrThrow(); // (T, C)
            return dropout(tok.add(pos), embd_pdrop, training); // (B, T, C)
        }
    }

    private static NDArray dropout(NDArray x, float rate, boolean training) {
        if (!training || rate == 0f) {
            return x;
        }
        return Dropout.dropout(x, rate, true).singletonOrThrow();
    }
}
