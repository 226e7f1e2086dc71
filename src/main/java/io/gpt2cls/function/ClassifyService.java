package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.quarkus.runtime.StartupEvent;

/**
 * Holds the one model this container serves: loaded on the first request (or at start-up with
 * {@code gpt2cls.classify.load-on-start=true}) and reused by every later request.
 */
@ApplicationScoped
public class ClassifyService {

    @Inject
    ArtifactStore store;

    @Inject
    AppConfig config;

    private volatile TextClassifier classifier;

    void onStart(@Observes StartupEvent event) {
        if (config.classify().loadOnStart() && config.classify().model().isPresent()) {
            classifier();
        }
    }

    public ClassifyResponse classify(ClassifyRequest request) {
        StrictRequest.requireValid(request);
        List<String> texts = request.allTexts();
        checkTexts(texts);
        TextClassifier model = classifier();
        ClassifyResponse response = new ClassifyResponse();
        response.model = model.modelId();
        List<TextClassifier.Prediction> predictions = model.classify(texts);
        response.results = new ArrayList<>();
        for (int i = 0; i < predictions.size(); i++) {
            TextClassifier.Prediction p = predictions.get(i);
            ClassifyResponse.Result r = new ClassifyResponse.Result();
            r.id = request.itemIds == null ? null : request.itemIds.get(i);
            r.label = p.label();
            r.score = p.score();
            r.probabilities = p.probabilities();
            r.tokens = p.tokens();
            r.truncated = p.truncated();
            response.results.add(r);
        }
        return response;
    }

    /** Refuses a request over the limits before any work, naming the text at fault. */
    private void checkTexts(List<String> texts) {
        if (texts.isEmpty()) {
            throw new InvalidRequestException(null, "no text to classify: send \"text\": \"...\" or \"texts\": [\"...\", ...]");
        }
        if (texts.size() > config.classify().maxTexts()) {
            throw new InvalidRequestException("texts", texts.size() + " texts in one request; the limit is " + config.classify().maxTexts()
                    + " (gpt2cls.classify.max-texts): split the request");
        }
        for (int i = 0; i < texts.size(); i++) {
            String text = texts.get(i);
            if (text.isBlank()) {
                throw new InvalidRequestException("texts[" + i + "]", "text " + i
                        + " is empty; every text needs at least one non-space character");
            }
            if (text.length() > config.classify().maxCharsPerText()) {
                throw new InvalidRequestException("texts[" + i + "]", "text " + i + " has " + text.length()
                        + " characters; the limit is " + config.classify().maxCharsPerText() + " (gpt2cls.classify.max-chars-per-text)");
            }
        }
    }

    /** Loads the model once; concurrent first requests wait for the same load. */
    TextClassifier classifier() {
        TextClassifier loaded = classifier;
        if (loaded == null) {
            synchronized (this) {
                loaded = classifier;
                if (loaded == null) {
                    String location = config.classify().model().orElseThrow(() -> new ArtifactNotFoundException(
                            "no model to serve: set gpt2cls.classify.model (env GPT2CLS_CLASSIFY_MODEL) to a directory "
                                    + "with config.json, model.safetensors and tokenizer.json"));
                    try {
                        loaded = TextClassifier.load(store.fetchSet(Location.parse(location), ModelCheckpoint.CONFIG_FILE), location,
                                config.classify().batchSize());
                    } catch (IOException e) {
                        throw new UncheckedIOException("cannot load the model at " + location + ": " + e.getMessage(), e);
                    }
                    classifier = loaded;
                }
            }
        }
        return loaded;
    }

    @PreDestroy
    void close() {
        if (classifier != null) {
            classifier.close();
        }
    }
}
