package io.gpt2cls.inference;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.stream.IntStream;

import org.jboss.logging.Logger;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;

import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelFormatException;
import io.gpt2cls.model.TokenBatch;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TokenizerFiles;
import io.gpt2cls.tokenizer.Truncation;

/**
 * A fine-tuned model and its tokenizer, loaded once and shared by every request (warm start).
 *
 * <p>Texts are cut as the checkpoint's {@code tokenizer_config.json} says ({@code model_max_length},
 * {@code truncation_side}), which is how the training data was cut: the model sees what it was
 * evaluated on, and {@code truncated} tells whether a text lost tokens to that length.
 *
 * <p>A request's texts are sorted by length and run in sub-batches of at most
 * {@code tokensPerForward} tokens (rows x the longest row), each padded only to its own longest
 * text: little compute goes into padding, short texts share a matrix product, and a forward's
 * memory has a bound whatever the request holds.
 *
 * <p>By default the model's matrix products are packed for MKL at load
 * ({@link Gpt2ForSequenceClassification#packForServing}): faster forwards, the same memory, and a model that
 * only serves from then on.
 *
 * <p>{@link #classify} may run on several threads at once: the weights are only read, and each call
 * works on its own sub-managers, closed before it returns, so serving memory stays flat. Owns its
 * native resources (the weights, the tokenizer), freed by {@link #close()}; closing while a call
 * runs is the caller's to prevent ({@link ModelCache}).
 */
public final class TextClassifier implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TextClassifier.class);

    /**
     * Enough for a full-size matrix product on a CPU; a GPT-2-small block's intermediates at this
     * size are about 200 MB (they grow with rows x length, and with length squared in attention).
     */
    public static final int DEFAULT_TOKENS_PER_FORWARD = 1024;

    private final NDManager root;
    private final Gpt2ForSequenceClassification model;
    private final TextTokenizer tokenizer;
    private final Truncation truncation;
    private final String location;
    private final String version;
    private final int tokensPerForward;
    private final LoadTimes loadTimes;
    private final long weightBytes;
    private volatile boolean closed;

    /** One text's result: the winning label, its probability, and all label probabilities in the model's label order. */
    public record Prediction(String label, double score, Map<String, Double> probabilities, int tokens, boolean truncated) {}

    /** Where a load's time went, in milliseconds; the tokenizer loads while libtorch and the weights do. */
    public record LoadTimes(long engine, long weights, long tokenizer, long total) {}

    private TextClassifier(NDManager root, Gpt2ForSequenceClassification model, long weightBytes, TextTokenizer tokenizer,
                           Truncation truncation, String location, String version, int tokensPerForward, LoadTimes loadTimes) {
        this.root = root;
        this.model = model;
        this.tokenizer = tokenizer;
        this.truncation = truncation;
        this.location = location;
        this.version = version;
        this.tokensPerForward = tokensPerForward;
        this.loadTimes = loadTimes;
        this.weightBytes = weightBytes;
    }

    /** Loads a local model directory (config.json, model.safetensors, tokenizer.json) to classify with, as the CLI does. */
    public static TextClassifier load(Path modelDir) throws IOException {
        return load(modelDir, modelDir.toString(), "", DEFAULT_TOKENS_PER_FORWARD, true);
    }

    /**
     * Loads a model directory holding config.json, model.safetensors and tokenizer.json.
     *
     * @param location where the model came from, as the user named it (responses report it)
     * @param version  which version of that location this is (responses report it)
     * @param packProducts whether the matrix products' weights go into MKL's packed layout
     *                     ({@link Gpt2ForSequenceClassification#packForServing}): faster forwards, a longer load
     */
    public static TextClassifier load(Path modelDir, String location, String version, int tokensPerForward, boolean packProducts)
            throws IOException {
        if (tokensPerForward < 1) {
            throw new IllegalArgumentException("tokens per forward must be at least 1, got " + tokensPerForward);
        }
        NativeRuntime.init();
        long start = System.nanoTime();
        CompletableFuture<TimedTokenizer> tokenizer = CompletableFuture.supplyAsync(() -> TimedTokenizer.load(modelDir));
        NDManager root = null;
        Gpt2ForSequenceClassification model = null;
        try {
            Engine.getInstance(); // loads libtorch: the largest part of a cold start
            long engineDone = System.nanoTime();
            root = NDManager.newBaseManager();
            model = ModelCheckpoint.load(modelDir, root);
            if (model.config.pad_token_id == null) {
                throw new ModelFormatException(modelDir.resolve(ModelCheckpoint.CONFIG_FILE)
                        + " has no pad_token_id; batches need one (GPT-2 pads with 50256)");
            }
            long parameters = model.parameterCount();
            long weightBytes = model.namedParameters().values().stream()
                    .mapToLong(a -> a.getShape().size() * a.getDataType().getNumOfBytes()).sum(); // packed, about the same
            long readDone = System.nanoTime();
            boolean packed = packProducts && model.packForServing();
            long weightsDone = System.nanoTime();
            Truncation truncation = TokenizerFiles.truncationOf(modelDir, model.config.n_positions);
            TimedTokenizer loaded = join(tokenizer);
            LoadTimes times = new LoadTimes(elapsedMillis(start, engineDone), elapsedMillis(engineDone, weightsDone), loaded.millis(),
                    elapsedMillis(start, System.nanoTime()));
            LOG.infof("loaded model %s (version %s, %,d parameters, labels %s, texts cut to %d tokens on the %s) in %d ms:"
                            + " engine %d ms, weights %d ms (%s), tokenizer %d ms alongside", location, version.isEmpty() ? "-" : version,
                    parameters, model.config.labels(), truncation.maxLength(), truncation.side().id(), times.total(),
                    times.engine(), times.weights(), packed ? "products packed for MKL in " + elapsedMillis(readDone, weightsDone) + " ms"
                            : packProducts ? "products not packed: no MKL packed GEMM in this libtorch, weights not float32 on the CPU,"
                                    + " or packed products that disagreed with the plain ones (warned above)"
                                    : "products not packed: gpt2cls.classify.packed-products=false",
                    times.tokenizer());
            return new TextClassifier(root, model, weightBytes, loaded.tokenizer(), truncation, location, version, tokensPerForward, times);
        } catch (Throwable e) { // an Error too (out of memory, a native library's): free what was allocated, then report it
            tokenizer.thenAccept(loaded -> loaded.tokenizer().close());
            if (model != null) {
                model.close(); // its weights, packed ones too
            }
            if (root != null) {
                root.close(); // the weights: every array was made under it
            }
            throw e;
        }
    }

    /** A tokenizer and the time its load took (its native library, then a 2 MB tokenizer.json for GPT-2). */
    private record TimedTokenizer(TextTokenizer tokenizer, long millis) {
        static TimedTokenizer load(Path modelDir) {
            long start = System.nanoTime();
            try {
                return new TimedTokenizer(TextTokenizer.load(modelDir), elapsedMillis(start, System.nanoTime()));
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
    }

    private static TimedTokenizer join(CompletableFuture<TimedTokenizer> tokenizer) throws IOException {
        try {
            return tokenizer.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException io) {
                throw io.getCause();
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw e;
        }
    }

    private static long elapsedMillis(long from, long to) {
        return (to - from) / 1_000_000;
    }

    /** Classifies non-blank texts (the function checks a request's texts and limits before they come here). */
    public List<Prediction> classify(List<String> texts) {
        NativeRuntime.noGradOnThisThread();
        List<int[]> encoded = tokenizer.encodeAll(texts);
        List<int[]> tokens = encoded.stream().map(truncation::apply).toList();
        Prediction[] predictions = new Prediction[texts.size()];
        for (int[] rows : subBatches(tokens.stream().mapToInt(t -> t.length).toArray(), tokensPerForward)) {
            List<int[]> batch = IntStream.of(rows).mapToObj(tokens::get).toList();
            float[][] probabilities;
            try (NDManager step = root.newSubManager()) {
                probabilities = model.probabilities(TokenBatch.rightPadded(batch, model.config.pad_token_id), step);
            }
            for (int j = 0; j < rows.length; j++) {
                int row = rows[j];
                predictions[row] = prediction(probabilities[j], tokens.get(row).length, truncation.cuts(encoded.get(row)));
            }
        }
        return List.of(predictions);
    }

    /**
     * Row indices sorted by length and cut into runs whose padded size (rows x the run's longest)
     * stays within {@code tokensPerForward}; a row longer than that runs alone.
     */
    static List<int[]> subBatches(int[] lengths, int tokensPerForward) {
        List<Integer> order = new ArrayList<>(IntStream.range(0, lengths.length).boxed().toList());
        order.sort(Comparator.comparingInt(i -> lengths[i]));
        List<int[]> batches = new ArrayList<>();
        int start = 0;
        for (int end = 1; end <= order.size(); end++) {
            boolean last = end == order.size();
            // sorted ascending: the run's longest row is its last; would one more row overflow the budget?
            if (last || (end - start + 1) * (long) lengths[order.get(end)] > tokensPerForward) {
                batches.add(order.subList(start, end).stream().mapToInt(Integer::intValue).toArray());
                start = end;
            }
        }
        return batches;
    }

    private Prediction prediction(float[] probabilities, int tokens, boolean truncated) {
        List<String> labels = model.config.labels();
        Map<String, Double> byLabel = new LinkedHashMap<>();
        int best = 0;
        for (int i = 0; i < probabilities.length; i++) {
            byLabel.put(labels.get(i), (double) probabilities[i]);
            if (probabilities[i] > probabilities[best]) {
                best = i;
            }
        }
        return new Prediction(labels.get(best), probabilities[best], byLabel, tokens, truncated);
    }

    /** The model's location as the user named it. */
    public String location() {
        return location;
    }

    /** Which version of {@link #location()} this is; empty when unknown. */
    public String version() {
        return version;
    }

    /** The weights' size in memory: what a model counts against the serving memory budget. */
    public long weightBytes() {
        return weightBytes;
    }

    public LoadTimes loadTimes() {
        return loadTimes;
    }

    public boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        closed = true;
        tokenizer.close();
        model.close();
        root.close();
    }
}
