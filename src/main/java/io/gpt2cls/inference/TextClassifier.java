package io.gpt2cls.inference;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.IntStream;

import org.jboss.logging.Logger;

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
 * A fine-tuned model and its tokenizer, loaded once and reused for every request (warm start).
 *
 * <p>Texts are cut as the checkpoint's {@code tokenizer_config.json} says ({@code model_max_length},
 * {@code truncation_side}), which is how the training data was cut: the model sees what it was
 * evaluated on, and {@code truncated} tells whether a text lost tokens to that length.
 *
 * <p>Owns its native resources: the model's weights and the tokenizer, freed by {@link #close()}.
 * Each call works on its own sub-manager, closed before it returns, so serving memory stays flat.
 */
public final class TextClassifier implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(TextClassifier.class);

    private final NDManager root;
    private final Gpt2ForSequenceClassification model;
    private final TextTokenizer tokenizer;
    private final String modelId;
    /** Texts per forward pass: similar lengths are batched together. */
    private final int batchSize;
    private final Truncation truncation;

    public static final int DEFAULT_BATCH_SIZE = 16;

    /** One text's result: the winning label, its probability, and all label probabilities. */
    public record Prediction(String label, double score, Map<String, Double> probabilities, int tokens, boolean truncated) {}

    private TextClassifier(NDManager root, Gpt2ForSequenceClassification model, TextTokenizer tokenizer, String modelId,
                           int batchSize, Truncation truncation) {
        this.truncation = truncation;
        this.root = root;
        this.model = model;
        this.tokenizer = tokenizer;
        this.modelId = modelId;
        this.batchSize = batchSize;
    }

    /** Loads a model directory holding config.json, model.safetensors and tokenizer.json. */
    public static TextClassifier load(Path modelDir, String modelId, int batchSize) throws IOException {
        NativeRuntime.init();
        long start = System.nanoTime();
        NDManager root = NDManager.newBaseManager();
        try {
            Gpt2ForSequenceClassification model = ModelCheckpoint.load(modelDir, root);
            if (model.config.pad_token_id == null) {
                throw new ModelFormatException(modelDir.resolve(ModelCheckpoint.CONFIG_FILE)
                        + " has no pad_token_id; batches need one (GPT-2 pads with 50256)");
            }
            Truncation truncation = TokenizerFiles.truncationOf(modelDir, model.config.n_positions);
            TextTokenizer tokenizer = TextTokenizer.load(modelDir);
            LOG.infof("loaded model %s (%,d parameters, labels %s, texts cut to %d tokens on the %s) in %d ms", modelId,
                    model.parameterCount(), model.config.labels(), truncation.maxLength(), truncation.side().id(),
                    (System.nanoTime() - start) / 1_000_000);
            return new TextClassifier(root, model, tokenizer, modelId, batchSize, truncation);
        } catch (IOException | RuntimeException e) {
            root.close();
            throw e;
        }
    }

    /** Classifies non-blank texts (the function checks a request's texts and limits before they come here). */
    public List<Prediction> classify(List<String> texts) {
        List<int[]> encoded = tokenizer.encodeAll(texts);
        Prediction[] predictions = new Prediction[texts.size()];
        // Similar lengths share a batch, so little compute goes into padding.
        List<Integer> order = new ArrayList<>(IntStream.range(0, texts.size()).boxed().toList());
        order.sort(Comparator.comparingInt(i -> encoded.get(i).length));
        for (int start = 0; start < order.size(); start += batchSize) {
            List<Integer> rows = order.subList(start, Math.min(order.size(), start + batchSize));
            List<int[]> tokens = rows.stream().map(i -> truncation.apply(encoded.get(i))).toList();
            float[][] probabilities;
            try (NDManager step = root.newSubManager()) {
                probabilities = model.probabilities(TokenBatch.rightPadded(tokens, model.config.pad_token_id), step);
            }
            for (int j = 0; j < rows.size(); j++) {
                int row = rows.get(j);
                predictions[row] = prediction(probabilities[j], tokens.get(j).length, truncation.cuts(encoded.get(row)));
            }
        }
        return List.of(predictions);
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

    public String modelId() {
        return modelId;
    }

    @Override
    public void close() {
        tokenizer.close();
        model.close();
        root.close();
    }
}
