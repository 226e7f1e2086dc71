package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpt2cls.inference.ModelCache;
import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.StorageException;
import io.gpt2cls.training.CheckpointPublisher;
import io.quarkus.runtime.StartupEvent;

/**
 * Serves the configured model and the models requests name: each loaded once (the configured one at
 * start-up with {@code gpt2cls.classify.load-on-start}, else by the first request that needs it) and
 * shared by every request and thread. A request's {@code model} is that request's only: requests
 * without one always get the configured model. The models loaded stay within a memory budget
 * ({@code gpt2cls.classify.model-memory}, least recently used out; {@link ModelCache}). Each is
 * replaced without a pause when a new version is published at its location
 * ({@code gpt2cls.classify.refresh-interval}): the new one loads beside the old, requests under way
 * finish on the old one, which is then closed and its cached files deleted. A failed load or refresh,
 * whatever it throws, frees what it loaded and leaves the models served as they were.
 */
@ApplicationScoped
public class ClassifyService {

    private static final Logger LOG = Logger.getLogger(ClassifyService.class);
    /** The warm-up text at start-up: any short text runs every op once. */
    private static final String WARM_UP_TEXT = "warm-up";

    @Inject
    ArtifactStore store;

    @Inject
    AppConfig config;

    /** The models loaded, by location: see {@link #models()}. */
    private volatile ModelCache models;
    /** One load at a time: concurrent requests for the same new model load it once. */
    private final Object loading = new Object();
    /** Version checks and the clean-up after a replaced model, off the request path. */
    private final ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "classify-model-refresh");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger loads = new AtomicInteger();
    private final AtomicInteger failedLoads = new AtomicInteger();
    private final AtomicBoolean answered = new AtomicBoolean();
    /** When the first load began, for the cold-start breakdown. */
    private volatile long firstLoadStartMillis;

    void onStart(@Observes StartupEvent event) {
        start();
    }

    /** Loads the configured model now if so configured, and schedules the version checks. */
    void start() {
        AppConfig.Classify settings = config.classify();
        if (settings.loadOnStart() && settings.model().isPresent()) {
            try (ModelCache.Lease lease = lease(null)) {
                long start = System.nanoTime();
                lease.model().classify(List.of(WARM_UP_TEXT)); // the first forward's one-time costs, before traffic
                LOG.infof("warm-up forward: %d ms", (System.nanoTime() - start) / 1_000_000);
            }
        }
        settings.refreshInterval().filter(interval -> !interval.isZero() && !interval.isNegative()).ifPresent(interval ->
                background.scheduleWithFixedDelay(this::refresh, interval.toMillis(), interval.toMillis(), TimeUnit.MILLISECONDS));
    }

    public ClassifyResponse classify(ClassifyRequest request) {
        long start = System.nanoTime();
        StrictRequest.requireValid(request);
        List<String> texts = request.allTexts();
        checkTexts(texts);
        if (request.topK != null && request.topK < 1) {
            throw new InvalidRequestException("top_k", "field 'top_k' must be at least 1, got " + request.topK);
        }
        Location requested = request.model == null ? null : requestedModel(request.model);
        try (ModelCache.Lease lease = lease(requested)) {
            TextClassifier model = lease.model();
            long classifyStart = System.nanoTime();
            List<TextClassifier.Prediction> predictions = model.classify(texts);
            long classifyMillis = (System.nanoTime() - classifyStart) / 1_000_000;
            ClassifyResponse response = new ClassifyResponse();
            response.model = model.location();
            response.modelVersion = model.version();
            response.results = new ArrayList<>();
            for (int i = 0; i < predictions.size(); i++) {
                TextClassifier.Prediction p = predictions.get(i);
                ClassifyResponse.Result r = new ClassifyResponse.Result();
                r.id = request.itemIds == null ? null : request.itemIds.get(i);
                r.label = p.label();
                r.score = p.score();
                r.probabilities = request.topK == null ? p.probabilities() : mostProbable(p.probabilities(), request.topK);
                r.tokens = p.tokens();
                r.truncated = p.truncated();
                response.results.add(r);
            }
            response.latencyMs = Math.round((System.nanoTime() - start) / 100_000.0) / 10.0;
            if (answered.compareAndSet(false, true)) {
                logColdStart(model, classifyMillis);
            }
            return response;
        }
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
            int bytes = utf8Length(text);
            if (bytes > config.classify().maxBytesPerText()) {
                throw new InvalidRequestException("texts[" + i + "]", String.format("text %d is %,d bytes in UTF-8; the limit is %,d"
                        + " (gpt2cls.classify.max-bytes-per-text): send the part the model should read", i, bytes,
                        config.classify().maxBytesPerText()));
            }
        }
    }

    /** The length of {@code text} in UTF-8, as {@code getBytes(UTF_8)} would make it, without making it. */
    static int utf8Length(String text) {
        int bytes = 0;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < text.length() && Character.isLowSurrogate(text.charAt(i + 1))) {
                bytes += 4; // a pair: one code point above U+FFFF
                i++;
            } else if (Character.isSurrogate(c)) {
                bytes += 1; // a lone surrogate is encoded as '?'
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }

    /** The request's model; a training checkpoint only where configured (a final model is what was evaluated and published). */
    private Location requestedModel(String model) {
        Location location;
        try {
            location = Location.parse(model);
        } catch (StorageException e) {
            throw new InvalidRequestException("model", "field 'model': " + e.getMessage());
        }
        if (!config.classify().allowCheckpoints() && CheckpointPublisher.isCheckpoint(location.name())) {
            throw new InvalidRequestException("model", "field 'model': '" + location + "' is a training checkpoint, not a final"
                    + " model; name the model itself ('" + location.parent() + "'), or set gpt2cls.classify.allow-checkpoints=true"
                    + " (env GPT2CLS_CLASSIFY_ALLOW_CHECKPOINTS) to serve checkpoints");
        }
        return location;
    }

    /** The {@code k} most probable labels, most probable first (ties in label order). */
    static Map<String, Double> mostProbable(Map<String, Double> probabilities, int k) {
        Map<String, Double> top = new LinkedHashMap<>();
        probabilities.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue(Comparator.reverseOrder()))
                .limit(k)
                .forEach(e -> top.put(e.getKey(), e.getValue()));
        return top;
    }

    /**
     * A hold on the model to answer with: the one the request names, else the configured one; a
     * model not loaded yet (or evicted) is loaded, once however many requests wait for it.
     */
    private ModelCache.Lease lease(Location requested) {
        String location = (requested != null ? requested : configuredModel()).toString();
        ModelCache.Lease lease = models().acquire(location);
        if (lease != null) {
            return lease;
        }
        synchronized (loading) {
            lease = models().acquire(location); // loaded by another request meanwhile?
            if (lease != null) {
                return lease;
            }
            load(Location.parse(location));
            return models().acquire(location); // the model just put: only loads, under this lock, evict or replace models
        }
    }

    /** The models loaded, made on first use with the configured budget (the config is injected after construction). */
    private ModelCache models() {
        ModelCache cache = models;
        if (cache == null) {
            synchronized (loading) {
                if (models == null) {
                    models = new ModelCache(config.classify().modelMemory().asLongValue());
                }
                cache = models;
            }
        }
        return cache;
    }

    private Location configuredModel() {
        return Location.parse(config.classify().model().orElseThrow(() -> new ArtifactNotFoundException(
                "no model to serve: set gpt2cls.classify.model (env GPT2CLS_CLASSIFY_MODEL) to a directory or s3:// prefix "
                        + "with config.json, model.safetensors and tokenizer.json, or name one in the request's 'model' field")));
    }

    /**
     * Loads the committed model at {@code location} and makes it the one served there; the caller
     * holds {@link #loading}. The version is read before the files and checked again after: a local
     * set is read in place, so a publish during the load could mix two versions, and is then read
     * again. A load that fails, however, keeps nothing: the classifier frees its native memory, and
     * the fetched files are let go (deleted from the cache unless another model reads them).
     */
    private void load(Location location) {
        if (firstLoadStartMillis == 0) {
            firstLoadStartMillis = System.currentTimeMillis();
        }
        try {
            for (int attempt = 1; ; attempt++) {
                String version = store.version(location, ModelCheckpoint.CONFIG_FILE);
                Path dir = store.fetchSet(location, ModelCheckpoint.CONFIG_FILE);
                TextClassifier model;
                try {
                    model = TextClassifier.load(dir, location.toString(), version, config.classify().tokensPerForward(),
                            config.classify().packedProducts());
                } catch (Throwable e) {
                    failedLoads.incrementAndGet();
                    afterRetired(dir); // a corrupt set would otherwise sit in the cache, read again by every retry
                    throw e;
                }
                if (attempt < 3 && !store.version(location, ModelCheckpoint.CONFIG_FILE).equals(version)) {
                    LOG.infof("%s changed while it was being loaded; loading it again", location);
                    model.close();
                    afterRetired(dir);
                    continue;
                }
                loads.incrementAndGet();
                models().put(model, () -> afterRetired(dir));
                return;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the model at " + location + ": " + e.getMessage(), e);
        }
    }

    /** Runs when a model let go has closed, on the thread that let it go last: the clean-up goes to the background. */
    private void afterRetired(Path dir) {
        try {
            background.execute(() -> releaseFiles(dir));
        } catch (RejectedExecutionException shuttingDown) {
            // the process is stopping: its cache directory outlives it, and will be reused
        }
    }

    /**
     * Lets the store delete a closed model's cached files (files another loaded model reads stay:
     * the store counts its fetches) and collects garbage: the weights are memory-mapped, and the JVM
     * unmaps a file only when its buffer is collected, so a swap would otherwise hold the old
     * version's pages and disk space until some later collection.
     */
    private void releaseFiles(Path dir) {
        try {
            store.release(dir);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("could not delete the cached files of a replaced model in %s: %s", dir, e.getMessage());
        }
        System.gc();
    }

    /**
     * The scheduled check, of every model loaded (a model not loaded, or evicted, gets its newest
     * version when a request next needs it). Nothing it meets stops the schedule: a scheduled task
     * that throws is never run again.
     */
    private void refresh() {
        for (TextClassifier current : models().models()) {
            refresh(current);
        }
    }

    /** A new version at the model's location is loaded and swapped in; on any failure the current model serves on. */
    private void refresh(TextClassifier current) {
        try {
            Location location = Location.parse(current.location());
            if (store.version(location, ModelCheckpoint.CONFIG_FILE).equals(current.version())) {
                return;
            }
            synchronized (loading) {
                if (models().peek(current.location()) != current) {
                    return; // replaced or evicted meanwhile
                }
                LOG.infof("a new version of %s was published; loading it", location);
                load(location);
            }
        } catch (Exception e) {
            LOG.warnf("could not refresh the model %s (version %s serves on): %s", current.location(), current.version(), e.getMessage());
        } catch (Throwable e) { // an Error: unexpected, so with its stack
            LOG.errorf(e, "could not refresh the model %s (version %s serves on)", current.location(), current.version());
        }
    }

    /** Once per process, on Lambda the init plus the first invocation: where the cold start went. */
    private void logColdStart(TextClassifier model, long firstClassifyMillis) {
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime();
        TextClassifier.LoadTimes load = model.loadTimes();
        LOG.infof("cold start: first answer %d ms after the JVM started; JVM and Quarkus until the model load %d ms,"
                        + " model load %d ms (engine %d, weights %d, tokenizer %d alongside), first classification %d ms",
                System.currentTimeMillis() - jvmStart, firstLoadStartMillis - jvmStart, load.total(), load.engine(),
                load.weights(), load.tokenizer(), firstClassifyMillis);
    }

    /** How many models this service has loaded: 1 for a container that served one version. */
    int loads() {
        return loads.get();
    }

    /** How many loads failed after the model's files were fetched (a corrupt set, too little memory). */
    int failedLoads() {
        return failedLoads.get();
    }

    /** The configured model as loaded now, to check which version it is and whether a replaced one was freed. */
    TextClassifier servedModel() {
        return models().peek(configuredModel().toString());
    }

    @PreDestroy
    void close() {
        background.shutdownNow();
        if (models != null) {
            models.close();
        }
    }
}
