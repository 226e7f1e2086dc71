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

import io.gpt2cls.inference.ModelSlot;
import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.StorageException;
import io.quarkus.runtime.StartupEvent;

/**
 * Serves one model per container: loaded once (at start-up with {@code gpt2cls.classify.load-on-start},
 * else by the first request) and shared by every request and thread. It is replaced without a
 * pause when a new version is published at its location ({@code gpt2cls.classify.refresh-interval})
 * or a request names another model: the new one loads beside the old, requests under way finish on
 * the old one, which is then closed and its cached files deleted ({@link ModelSlot}).
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

    private final ModelSlot slot = new ModelSlot();
    /** One load at a time: concurrent requests for the same new model load it once. */
    private final Object loading = new Object();
    /** Version checks and the clean-up after a replaced model, off the request path. */
    private final ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "classify-model-refresh");
        thread.setDaemon(true);
        return thread;
    });
    private final AtomicInteger loads = new AtomicInteger();
    private final AtomicBoolean answered = new AtomicBoolean();
    /** The directory the current model was read from. */
    private volatile Path currentDir;
    /** When the first load began, for the cold-start breakdown. */
    private volatile long firstLoadStartMillis;

    void onStart(@Observes StartupEvent event) {
        start();
    }

    /** Loads the configured model now if so configured, and schedules the version checks. */
    void start() {
        AppConfig.Classify settings = config.classify();
        if (settings.loadOnStart() && settings.model().isPresent()) {
            try (ModelSlot.Lease lease = lease(null)) {
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
        try (ModelSlot.Lease lease = lease(requested)) {
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

    private static Location requestedModel(String model) {
        try {
            return Location.parse(model);
        } catch (StorageException e) {
            throw new InvalidRequestException("model", "field 'model': " + e.getMessage());
        }
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
     * A hold on the model to answer with: the current one, unless the request names another or none
     * is loaded yet; then that one is loaded (once, however many requests wait for it) and swapped in.
     */
    private ModelSlot.Lease lease(Location requested) {
        ModelSlot.Lease lease = servingLease(requested);
        if (lease != null) {
            return lease;
        }
        synchronized (loading) {
            lease = servingLease(requested); // loaded by another request meanwhile?
            if (lease != null) {
                return lease;
            }
            load(requested != null ? requested : configuredModel());
            return slot.acquire(); // the model just put: only loads, under this lock, replace it
        }
    }

    /** A lease on the current model if it is the one asked for (any, when none is named), else null. */
    private ModelSlot.Lease servingLease(Location requested) {
        ModelSlot.Lease lease = slot.acquire();
        if (lease == null || requested == null || Location.parse(lease.model().location()).equals(requested)) {
            return lease;
        }
        lease.close();
        return null;
    }

    private Location configuredModel() {
        return Location.parse(config.classify().model().orElseThrow(() -> new ArtifactNotFoundException(
                "no model to serve: set gpt2cls.classify.model (env GPT2CLS_CLASSIFY_MODEL) to a directory or s3:// prefix "
                        + "with config.json, model.safetensors and tokenizer.json, or name one in the request's 'model' field")));
    }

    /**
     * Loads the committed model at {@code location} and makes it current; the caller holds
     * {@link #loading}. The version is read before the files and checked again after: a local set is
     * read in place, so a publish during the load could mix two versions, and is then read again.
     */
    private void load(Location location) {
        if (firstLoadStartMillis == 0) {
            firstLoadStartMillis = System.currentTimeMillis();
        }
        try {
            for (int attempt = 1; ; attempt++) {
                String version = store.version(location, ModelCheckpoint.CONFIG_FILE);
                Path dir = store.fetchSet(location, ModelCheckpoint.CONFIG_FILE);
                TextClassifier model = TextClassifier.load(dir, location.toString(), version, config.classify().tokensPerForward());
                if (attempt < 3 && !store.version(location, ModelCheckpoint.CONFIG_FILE).equals(version)) {
                    LOG.infof("%s changed while it was being loaded; loading it again", location);
                    model.close();
                    continue;
                }
                currentDir = dir;
                loads.incrementAndGet();
                slot.put(model, () -> afterRetired(dir));
                return;
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot load the model at " + location + ": " + e.getMessage(), e);
        }
    }

    /** Runs when a replaced model has closed, on the thread that let it go last: the clean-up goes to the background. */
    private void afterRetired(Path dir) {
        try {
            background.execute(() -> releaseFiles(dir));
        } catch (RejectedExecutionException shuttingDown) {
            // the process is stopping: its cache directory outlives it, and will be reused
        }
    }

    /**
     * Deletes a replaced model's cached files (unless the current model reads the same ones) and
     * collects garbage: the weights are memory-mapped, and the JVM unmaps a file only when its
     * buffer is collected, so a swap would otherwise hold the old version's pages and disk space
     * until some later collection.
     */
    private void releaseFiles(Path dir) {
        try {
            if (!dir.equals(currentDir)) {
                store.release(dir);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warnf("could not delete the cached files of a replaced model in %s: %s", dir, e.getMessage());
        }
        System.gc();
    }

    /** The scheduled check: a new version at the served location is loaded and swapped in; on a failure the current model serves on. */
    private void refresh() {
        TextClassifier current = slot.peek();
        if (current == null) {
            return; // nothing served yet: the first request loads the newest version
        }
        try {
            Location location = Location.parse(current.location());
            if (store.version(location, ModelCheckpoint.CONFIG_FILE).equals(current.version())) {
                return;
            }
            synchronized (loading) {
                if (slot.peek() != current) {
                    return; // replaced meanwhile
                }
                LOG.infof("a new version of %s was published; loading it", location);
                load(location);
            }
        } catch (IOException | RuntimeException e) {
            LOG.warnf("could not refresh the model %s (version %s serves on): %s", current.location(), current.version(), e.getMessage());
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

    /** The model now served, to check which one it is and whether a replaced one was freed. */
    TextClassifier servedModel() {
        return slot.peek();
    }

    @PreDestroy
    void close() {
        background.shutdownNow();
        slot.close();
    }
}
