package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.model.ModelCheckpoint;
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

    @ConfigProperty(name = "gpt2cls.classify.model")
    Optional<String> modelLocation;

    @ConfigProperty(name = "gpt2cls.classify.load-on-start")
    boolean loadOnStart;

    @ConfigProperty(name = "gpt2cls.classify.max-texts")
    int maxTexts;

    @ConfigProperty(name = "gpt2cls.classify.max-chars-per-text")
    int maxCharsPerText;

    @ConfigProperty(name = "gpt2cls.classify.batch-size")
    int batchSize;

    private volatile TextClassifier classifier;

    void onStart(@Observes StartupEvent event) {
        if (loadOnStart && modelLocation.isPresent()) {
            classifier();
        }
    }

    public ClassifyResponse classify(ClassifyRequest request) {
        request.rejectUnknownFields();
        TextClassifier model = classifier();
        ClassifyResponse response = new ClassifyResponse();
        response.model = model.modelId();
        response.results = model.classify(request.allTexts()).stream().map(p -> {
            ClassifyResponse.Result r = new ClassifyResponse.Result();
            r.label = p.label();
            r.score = p.score();
            r.probabilities = p.probabilities();
            r.tokens = p.tokens();
            r.truncated = p.truncated();
            return r;
        }).toList();
        return response;
    }

    /** Loads the model once; concurrent first requests wait for the same load. */
    TextClassifier classifier() {
        TextClassifier loaded = classifier;
        if (loaded == null) {
            synchronized (this) {
                loaded = classifier;
                if (loaded == null) {
                    String location = modelLocation.orElseThrow(() -> new IllegalStateException(
                            "no model to serve: set gpt2cls.classify.model (env GPT2CLS_CLASSIFY_MODEL) to a directory "
                                    + "with config.json, model.safetensors and tokenizer.json"));
                    try {
                        loaded = TextClassifier.load(store.fetchSet(Location.parse(location), ModelCheckpoint.CONFIG_FILE), location,
                                new TextClassifier.Limits(maxTexts, maxCharsPerText, batchSize));
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
