package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import java.util.function.Consumer;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.StorageException;

/**
 * The classify service as a long-lived container runs it: one model shared by concurrent requests,
 * replaced while they run, and requests that name a model or ask for the top labels.
 */
class ClassifyServiceTest {

    /** Short and long (a long one keeps requests in flight while a swap happens). */
    static final List<String> TEXTS = List.of("Subject: lunch tomorrow?", "WIN A FREE CRUISE!!! click here now",
            "Re: patch for the build", "the weekly meeting notes and agenda for Tuesday, with the budget attached", "x",
            "Dear all, ".repeat(20) + "the minutes of the last meeting are attached; please read them before Tuesday. ".repeat(8));
    static final List<String> LABELS = List.of("ham", "spam", "other");

    @TempDir
    static Path work;
    /** Two versions of a model: same shape and labels, different weights. */
    static Path v1;
    static Path v2;

    final LocalStore local = new LocalStore();
    final List<ClassifyService> services = new ArrayList<>();

    @BeforeAll
    static void models() throws IOException {
        v1 = TestModels.randomTinyModel(work.resolve("v1"), 1, LABELS);
        v2 = TestModels.randomTinyModel(work.resolve("v2"), 2, LABELS);
    }

    @AfterEach
    void close() {
        services.forEach(ClassifyService::close);
    }

    ClassifyFunction function(Path model, Duration refreshInterval, List<String> allowed) {
        TestConfig config = new TestConfig();
        config.model = model.toString();
        config.refreshInterval = refreshInterval;
        return function(config, store(allowed));
    }

    /** The local store, limited to {@code allowed} (empty: anywhere). */
    ArtifactStore store(List<String> allowed) {
        return new RoutingStore(local, () -> {
            throw new StorageException("no S3 here");
        }, allowed.stream().map(Location::parse).toList());
    }

    ClassifyFunction function(TestConfig config, ArtifactStore store) {
        ClassifyService service = new ClassifyService();
        service.store = store;
        service.config = config;
        service.start();
        services.add(service);
        ClassifyFunction function = new ClassifyFunction();
        function.service = service;
        return function;
    }

    static ClassifyRequest request(String text) {
        ClassifyRequest request = new ClassifyRequest();
        request.text = text;
        return request;
    }

    static float[] probabilities(ClassifyResponse.Result result) {
        float[] values = new float[LABELS.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = result.probabilities.get(LABELS.get(i)).floatValue();
        }
        return values;
    }

    /** Each text's probabilities from a model loaded on its own. */
    static Map<String, float[]> reference(Path model) throws IOException {
        Map<String, float[]> byText = new HashMap<>();
        try (TextClassifier classifier = TextClassifier.load(model)) {
            for (String text : TEXTS) {
                Map<String, Double> p = classifier.classify(List.of(text)).get(0).probabilities();
                float[] values = new float[LABELS.size()];
                for (int i = 0; i < values.length; i++) {
                    values[i] = p.get(LABELS.get(i)).floatValue();
                }
                byText.put(text, values);
            }
        }
        return byText;
    }

    void publish(Path version, Location location) throws IOException {
        try (ArtifactStore.Staging staging = local.stage(location, ModelCheckpoint.CONFIG_FILE)) {
            try (Stream<Path> files = Files.list(version)) {
                for (Path file : files.toList()) {
                    Files.copy(file, staging.dir().resolve(file.getFileName()));
                }
            }
            staging.commit();
        }
    }

    static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    /** Runs {@code client} on {@code count} threads at once, each with its own seeded Random; rethrows a client's failed assertion. */
    static void concurrently(int count, Consumer<Random> client) throws Exception {
        ExecutorService clients = Executors.newFixedThreadPool(count);
        try {
            List<Future<?>> running = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                Random random = new Random(i);
                running.add(clients.submit(() -> client.accept(random)));
            }
            for (Future<?> each : running) {
                each.get();
            }
        } finally {
            clients.shutdownNow();
        }
    }

    @Test
    void concurrentRequestsGetTheAnswersOfSequentialOnes() throws Exception {
        ClassifyFunction function = function(v1, null, List.of());
        Map<String, ClassifyResponse.Result> sequential = new HashMap<>();
        for (String text : TEXTS) {
            sequential.put(text, function.classify(request(text)).results.get(0));
        }
        ClassifyRequest all = new ClassifyRequest();
        all.texts = TEXTS;
        List<ClassifyResponse.Result> together = function.classify(all).results;

        concurrently(4, random -> {
            for (int i = 0; i < 25; i++) {
                if (i % 5 == 4) {
                    List<ClassifyResponse.Result> results = function.classify(all).results;
                    for (int t = 0; t < TEXTS.size(); t++) {
                        assertArrayEquals(probabilities(together.get(t)), probabilities(results.get(t)), "text " + t + " in a batch");
                    }
                } else {
                    String text = TEXTS.get(random.nextInt(TEXTS.size()));
                    ClassifyResponse.Result result = function.classify(request(text)).results.get(0);
                    assertArrayEquals(probabilities(sequential.get(text)), probabilities(result), text);
                    assertEquals(sequential.get(text).label, result.label);
                }
            }
        });
        assertEquals(1, services.get(0).loads(), "one model instance served every request");
    }

    @Test
    void aPublishedVersionIsSwappedInUnderLoadWithoutFailedOrMixedAnswersAndTheOldOneIsFreed() throws Exception {
        Map<String, float[]> expected1 = reference(v1);
        Map<String, float[]> expected2 = reference(v2);
        Location served = Location.of(work.resolve("served"));
        publish(v1, served);
        String version1 = local.version(served, ModelCheckpoint.CONFIG_FILE);
        ClassifyFunction function = function(served.path(), Duration.ofMillis(100), List.of());
        ClassifyService service = services.get(0);
        function.classify(request(TEXTS.get(0)));
        TextClassifier old = service.servedModel();

        record Answer(String version, String text, float[] probabilities, FunctionError error) {}
        List<Answer> answers = Collections.synchronizedList(new ArrayList<>());
        AtomicBoolean stop = new AtomicBoolean();
        ExecutorService clients = Executors.newFixedThreadPool(3);
        List<Future<?>> running = new ArrayList<>();
        for (int client = 0; client < 3; client++) {
            Random random = new Random(client);
            running.add(clients.submit(() -> {
                while (!stop.get()) {
                    String text = TEXTS.get(random.nextInt(TEXTS.size()));
                    ClassifyResponse response = function.classify(request(text));
                    answers.add(new Answer(response.modelVersion, text,
                            response.results == null ? null : probabilities(response.results.get(0)), response.error));
                }
                return null;
            }));
        }
        await(() -> answers.size() >= 30, "30 answers from the first version");
        publish(v2, served);
        String version2 = local.version(served, ModelCheckpoint.CONFIG_FILE);
        await(() -> {
            synchronized (answers) { // the clients add while this reads
                return answers.stream().filter(a -> version2.equals(a.version())).count() >= 30;
            }
        }, "30 answers from the second version");
        stop.set(true);
        for (Future<?> client : running) {
            client.get();
        }
        clients.shutdown();

        assertNotEquals(version1, version2);
        for (Answer answer : answers) {
            assertNull(answer.error(), "a request failed during the swap");
            Map<String, float[]> expected = answer.version().equals(version1) ? expected1 : expected2;
            assertTrue(answer.version().equals(version1) || answer.version().equals(version2), answer.version());
            assertArrayEquals(expected.get(answer.text()), answer.probabilities(), 1e-6f,
                    "an answer labelled " + answer.version() + " came from that version's weights");
        }
        assertEquals(version2, service.servedModel().version());
        assertEquals(2, service.loads());
        await(old::isClosed, "the replaced model is closed once its last request finished");

        // Its weights were memory-mapped from a file the publish replaced: once collected, the mapping is gone.
        String oldWeights = served.path().resolve(ModelCheckpoint.WEIGHTS_FILE) + " (deleted)";
        old = null;
        await(() -> {
            System.gc();
            return mappings().stream().noneMatch(line -> line.endsWith(oldWeights));
        }, "the replaced weights are unmapped");
    }

    static List<String> mappings() {
        try {
            return Files.readAllLines(Path.of("/proc/self/maps"));
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aRequestNamingAnotherModelIsAnsweredByItAndRequestsWithoutOneKeepTheConfiguredModel() throws IOException {
        ClassifyFunction function = function(v1, null, List.of());
        assertEquals(v1.toString(), function.classify(request("hello")).model);

        ClassifyRequest other = request("hello");
        other.model = v2.toString();
        ClassifyResponse named = function.classify(other);
        assertEquals(v2.toString(), named.model);
        assertEquals(local.version(Location.of(v2), ModelCheckpoint.CONFIG_FILE), named.modelVersion);
        assertEquals(v1.toString(), function.classify(request("hello")).model, "a request's model is that request's only");
        assertEquals(v2.toString(), function.classify(other).model);
        assertEquals(2, services.get(0).loads(), "both stay loaded: neither was loaded twice");

        ClassifyRequest missing = request("hello");
        missing.model = work.resolve("no-such-model").toString();
        assertEquals(FunctionError.NOT_FOUND, function.classify(missing).error.type());
        ClassifyRequest unparsable = request("hello");
        unparsable.model = "ftp://host/model";
        FunctionError error = function.classify(unparsable).error;
        assertEquals("model", error.field());
        assertTrue(error.message().contains("unsupported scheme"), error.message());
        assertEquals(v1.toString(), function.classify(request("hello")).model);
        assertEquals(2, services.get(0).loads());
    }

    @Test
    void theRefreshKeepsWatchingTheConfiguredModelAfterARequestNamedAnother() throws Exception {
        Location served = Location.of(work.resolve("watched"));
        publish(v1, served);
        ClassifyFunction function = function(served.path(), Duration.ofMillis(100), List.of());
        assertEquals(local.version(served, ModelCheckpoint.CONFIG_FILE), function.classify(request("hello")).modelVersion);
        ClassifyRequest other = request("hello");
        other.model = v2.toString();
        assertEquals(v2.toString(), function.classify(other).model);

        publish(v2, served);
        String version2 = local.version(served, ModelCheckpoint.CONFIG_FILE);
        await(() -> version2.equals(function.classify(request("hello")).modelVersion), "the configured model's new version serves");
        ClassifyResponse response = function.classify(request(TEXTS.get(1)));
        assertEquals(served.toString(), response.model);
        assertArrayEquals(reference(v2).get(TEXTS.get(1)), probabilities(response.results.get(0)), 1e-6f);
    }

    @Test
    void anErrorInARefreshIsLoggedAndALaterGoodPublishIsStillPickedUp() throws Exception {
        Location served = Location.of(work.resolve("refreshed"));
        publish(v1, served);
        AtomicBoolean failFetches = new AtomicBoolean();
        AtomicInteger failedFetches = new AtomicInteger();
        ArtifactStore routing = store(List.of());
        // the store is an interface: a proxy that throws an Error from fetchSet on demand, the rest as the local store does
        ArtifactStore failing = (ArtifactStore) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ArtifactStore.class},
                (proxy, method, args) -> {
                    if (method.getName().equals("fetchSet") && failFetches.get()) {
                        failedFetches.incrementAndGet();
                        throw new OutOfMemoryError("injected: Direct buffer memory");
                    }
                    try {
                        return method.invoke(routing, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                });
        TestConfig config = new TestConfig();
        config.model = served.toString();
        config.refreshInterval = Duration.ofMillis(100);
        ClassifyFunction function = function(config, failing);
        String version1 = function.classify(request("hello")).modelVersion;

        failFetches.set(true);
        publish(v2, served);
        await(() -> failedFetches.get() >= 3, "three refreshes met the Error");
        assertEquals(version1, function.classify(request("hello")).modelVersion, "the loaded model serves on");

        failFetches.set(false);
        publish(v1, served);
        String version3 = local.version(served, ModelCheckpoint.CONFIG_FILE);
        await(() -> version3.equals(function.classify(request("hello")).modelVersion), "the good publish serves");
        assertEquals(2, services.get(0).loads());
    }

    @Test
    void aCheckpointIsRefusedUnlessCheckpointsAreAllowed() throws IOException {
        Path model = work.resolve("with-checkpoints");
        publish(v1, Location.of(model));
        Location checkpoint = Location.of(model.resolve("checkpoint-10"));
        publish(v2, checkpoint);
        ClassifyRequest named = request("hello");
        named.model = checkpoint.toString();

        FunctionError error = function(model, null, List.of(model.toString())).classify(named).error;
        assertEquals(FunctionError.INVALID_REQUEST, error.type());
        assertEquals("model", error.field());
        assertTrue(error.message().contains("is a training checkpoint") && error.message().contains("gpt2cls.classify.allow-checkpoints=true"),
                error.message());

        TestConfig config = new TestConfig();
        config.model = model.toString();
        config.allowCheckpoints = true;
        ClassifyFunction allowing = function(config, store(List.of(model.toString())));
        assertEquals(checkpoint.toString(), allowing.classify(named).model);
        assertEquals(model.toString(), allowing.classify(request("hello")).model);
    }

    @Test
    void manyThreadsMixingTheConfiguredAndNamedModelsGetTheAnswersOfSequentialOnes() throws Exception {
        Path v3 = TestModels.randomTinyModel(work.resolve("v3"), 3, LABELS);
        Map<String, Map<String, float[]>> expected = Map.of(v1.toString(), reference(v1), v2.toString(), reference(v2),
                v3.toString(), reference(v3));
        TestConfig config = new TestConfig();
        config.model = v1.toString();
        try (TextClassifier one = TextClassifier.load(v1)) {
            config.modelMemory = 2 * one.weightBytes(); // two of the three: a named model often evicts another
        }
        ClassifyFunction function = function(config, store(List.of()));
        List<String> named = Arrays.asList(null, v2.toString(), v3.toString()); // null: the configured model

        concurrently(6, random -> {
            for (int i = 0; i < 40; i++) {
                String text = TEXTS.get(random.nextInt(TEXTS.size()));
                ClassifyRequest request = request(text);
                request.model = named.get(random.nextInt(named.size()));
                ClassifyResponse response = function.classify(request);
                assertNull(response.error, () -> "request for " + request.model + " failed: " + response.error.message());
                String model = request.model == null ? v1.toString() : request.model;
                assertEquals(model, response.model);
                assertArrayEquals(expected.get(model).get(text), probabilities(response.results.get(0)), 1e-6f, model + ": " + text);
            }
        });
        assertTrue(services.get(0).loads() > 3, "evictions made some models load again: " + services.get(0).loads());
    }

    @Test
    void aModelOutsideTheAllowedLocationsIsRefusedAndTheServedOneStays() {
        ClassifyFunction function = function(v1, null, List.of(v1.toString()));
        ClassifyRequest other = request("hello");
        other.model = v2.toString();
        FunctionError error = function.classify(other).error;
        assertTrue(error.message().contains("outside the allowed locations"), error.message());
        assertEquals(v1.toString(), function.classify(request("hello")).model);
    }

    @Test
    void topKKeepsTheMostProbableLabelsMostProbableFirst() {
        ClassifyFunction function = function(v1, null, List.of());
        ClassifyResponse.Result all = function.classify(request(TEXTS.get(1))).results.get(0);
        List<String> ranked = all.probabilities.entrySet().stream()
                .sorted(Map.Entry.<String, Double>comparingByValue().reversed()).map(Map.Entry::getKey).toList();

        ClassifyRequest two = request(TEXTS.get(1));
        two.topK = 2;
        ClassifyResponse.Result top = function.classify(two).results.get(0);
        assertEquals(ranked.subList(0, 2), List.copyOf(top.probabilities.keySet()));
        assertEquals(all.probabilities.get(ranked.get(1)), top.probabilities.get(ranked.get(1)));
        assertEquals(ranked.get(0), top.label);

        ClassifyRequest many = request(TEXTS.get(1));
        many.topK = 10;
        assertEquals(ranked, List.copyOf(function.classify(many).results.get(0).probabilities.keySet()), "k above the labels: all");

        ClassifyRequest none = request(TEXTS.get(1));
        none.topK = 0;
        FunctionError error = function.classify(none).error;
        assertEquals("top_k", error.field());
        assertEquals("field 'top_k' must be at least 1, got 0", error.message());
    }

    @Test
    void aResponseNamesTheModelItsVersionAndTheTimeSpent() throws IOException {
        ClassifyResponse response = function(v1, null, List.of()).classify(request("hello"));
        assertEquals(v1.toString(), response.model);
        assertEquals(local.version(Location.of(v1), ModelCheckpoint.CONFIG_FILE), response.modelVersion);
        assertTrue(response.latencyMs > 0, "latency " + response.latencyMs);
        assertFalse(response.results.get(0).truncated);
    }
}
