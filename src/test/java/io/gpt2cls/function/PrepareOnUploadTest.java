package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.stream.Stream;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.S3CacheBudgetTest;
import io.gpt2cls.storage.S3ProxyTestResource;
import io.gpt2cls.storage.S3Settings;
import io.gpt2cls.storage.S3Store;

/**
 * prepare started by uploads, as deployed: the payloads in events/ (an S3 notification for a training
 * file, an EventBridge event for a settings file) against a real S3-compatible server holding the data.
 */
class PrepareOnUploadTest {

    static final String BUCKET = "gpt2cls-data-123456789012";
    static final S3ProxyTestResource S3 = new S3ProxyTestResource();
    /** Room for two downloads of the 53 KB training file: each run must delete its own for the next to fit. */
    static final long CACHE_BUDGET = 120_000;
    static Path cacheDir;
    static S3Store s3Store;
    static PrepareService prepare;

    @BeforeAll
    static void start() throws Exception {
        S3.init(Map.of("buckets", BUCKET));
        S3.start();
        cacheDir = Files.createTempDirectory("s3-cache-");
        s3Store = S3Store.create(S3Settings.defaults().withCacheDir(cacheDir).withCacheMaxSize(CACHE_BUDGET));
        prepare = new PrepareService();
        prepare.store = new RoutingStore(new LocalStore(), () -> s3Store, List.of());
        prepare.baseModels = BaseModels.of(prepare.store, new TestConfig());
        try (S3Client s3 = S3.server().client()) {
            String messages = Files.readString(TestModels.MESSAGES);
            s3.putObject(b -> b.bucket(BUCKET).key("raw/spam/train.jsonl"), RequestBody.fromString(messages));
            s3.putObject(b -> b.bucket(BUCKET).key("raw/spam/notes.txt"), RequestBody.fromString("not data"));
            s3.putObject(b -> b.bucket(BUCKET).key("raw/spam-small/train.jsonl"), RequestBody.fromString(messages));
        }
    }

    @AfterAll
    static void stop() {
        s3Store.close();
        S3.stop();
    }

    /** The downloads left in the store's cache: a warm container that keeps them fills its /tmp upload after upload. */
    private static List<Path> cachedDownloads() throws IOException {
        Path objects = cacheDir.resolve("objects");
        if (!Files.isDirectory(objects)) {
            return List.of();
        }
        try (Stream<Path> files = Files.walk(objects)) {
            return files.filter(Files::isRegularFile).toList();
        }
    }

    private static PrepareResponse deliver(String eventFile, String from, String to) throws Exception {
        String event = Files.readString(Path.of("events", eventFile)).replace(from, to);
        return prepare.prepare(RequestParser.parse(event, PrepareRequest.class));
    }

    @Test
    void anUploadedTrainingFileIsPreparedByConvention() throws Exception {
        PrepareResponse response = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/spam/train.jsonl");
        assertEquals("s3://" + BUCKET + "/raw/spam/train.jsonl", response.triggeredBy);
        assertEquals("s3://" + BUCKET + "/prepared/spam", response.output);
        assertEquals(80L, response.accepted);
        assertTrue(s3Store.exists(Location.parse("s3://" + BUCKET + "/prepared/spam"), "manifest.json"));
        assertEquals(List.of(), cachedDownloads(), "the downloaded input is deleted once prepared");
    }

    @Test
    void aStreamOfUploadsIsPreparedWithinASmallCache() throws Exception {
        String messages = Files.readString(TestModels.MESSAGES);
        for (int i = 0; i < 6; i++) {
            String key = "raw/stream-" + i + "/train.jsonl";
            try (S3Client s3 = S3.server().client()) {
                s3.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromString(messages));
            }
            assertEquals(80L, deliver("prepare-s3-put.json", "raw/spam/train.jsonl", key).accepted, key);
            assertTrue(S3CacheBudgetTest.cachedBytes(cacheDir) <= CACHE_BUDGET);
        }
    }

    @Test
    void aFailedPrepareDeletesItsDownloadsToo() throws Exception {
        PrepareRequest request = new PrepareRequest();
        request.train = "s3://" + BUCKET + "/raw/spam/train.jsonl";
        request.output = "s3://" + BUCKET + "/prepared/never";
        request.textColumn = "no-such-column";
        assertThrows(RuntimeException.class, () -> prepare.prepare(request));
        assertEquals(List.of(), cachedDownloads());
    }

    @Test
    void anUploadedSettingsFileRunsItsRequest() throws Exception {
        try (S3Client s3 = S3.server().client()) {
            s3.putObject(b -> b.bucket(BUCKET).key("raw/spam-small/train.prepare.json"),
                    RequestBody.fromString("{\"train\": \"train.jsonl\", \"output\": \"s3://" + BUCKET + "/prepared/spam-64\","
                            + " \"max_length\": 64, \"test_fraction\": 0.25}"));
        }
        PrepareResponse response = deliver("prepare-eventbridge.json", "raw/spam/train.prepare.json", "raw/spam-small/train.prepare.json");
        assertNull(response.skipped);
        assertEquals("s3://" + BUCKET + "/prepared/spam-64", response.output);
        assertEquals(20, response.splits.get("test").rows());
        assertEquals("s3://" + BUCKET + "/raw/spam-small/train.jsonl", response.sources.get(0).path(),
                "the manifest names the S3 location, relative names resolved against the settings file's directory");
        assertEquals(List.of(), cachedDownloads(), "the settings file and the input it names are deleted once read");
    }

    @Test
    void aDuplicateEventPreparesOnce() throws Exception {
        put("raw/once/train.jsonl", Files.readString(TestModels.MESSAGES));
        Location manifest = Location.parse("s3://" + BUCKET + "/prepared/once/manifest.json");
        PrepareResponse first = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/once/train.jsonl");
        assertNull(first.skipped);
        assertEquals(80L, first.accepted);
        String written = s3Store.fileVersion(manifest);
        JsonNode recorded = readReleased(manifest).path("prepared_from");
        assertEquals(first.inputsVersion, recorded.path("inputs_version").asText(), "the manifest records what it was made from");
        assertEquals(s3Store.fileVersion(Location.parse("s3://" + BUCKET + "/raw/once/train.jsonl")),
                recorded.path("files").path("s3://" + BUCKET + "/raw/once/train.jsonl").asText(), "by each input's ETag");

        PrepareResponse again = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/once/train.jsonl");
        assertNotNull(again.skipped);
        assertTrue(again.skipped.contains("already holds the dataset prepared from these inputs"), again.skipped);
        assertEquals(first.inputsVersion, again.inputsVersion);
        assertEquals(written, s3Store.fileVersion(manifest), "nothing was published again (a second GPU job would start)");

        put("raw/once/train.jsonl", Files.readString(TestModels.MESSAGES).replace("\"ham\"", "\"ok\""));
        PrepareResponse changed = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/once/train.jsonl");
        assertNull(changed.skipped, "a new upload of the file is new input");
        assertNotEquals(first.inputsVersion, changed.inputsVersion);
    }

    @Test
    void aDataFileAndItsSettingsFileUploadedTogetherGiveOneDataset() throws Exception {
        put("raw/pair/train.jsonl", Files.readString(TestModels.MESSAGES));
        put("raw/pair/train.prepare.json", "{\"max_length\": 64, \"test_fraction\": 0.25}");
        Location manifest = Location.parse("s3://" + BUCKET + "/prepared/pair/manifest.json");
        // both notifications arrive at once, each starting a run; and one of them is delivered twice
        List<Callable<PrepareResponse>> events = List.of(
                () -> deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/pair/train.jsonl"),
                () -> deliver("prepare-eventbridge.json", "raw/spam/train.prepare.json", "raw/pair/train.prepare.json"),
                () -> deliver("prepare-eventbridge.json", "raw/spam/train.prepare.json", "raw/pair/train.prepare.json"));
        ExecutorService pool = Executors.newFixedThreadPool(events.size());
        List<PrepareResponse> responses = new ArrayList<>();
        try {
            for (Future<PrepareResponse> response : pool.invokeAll(events)) {
                responses.add(response.get());
            }
        } finally {
            pool.shutdownNow();
        }
        List<PrepareResponse> prepared = responses.stream().filter(r -> r.skipped == null).toList();
        assertEquals(1, prepared.size(), () -> "one run prepared, the others found its work: "
                + responses.stream().map(r -> String.valueOf(r.skipped)).toList());
        responses.forEach(r -> assertEquals(prepared.get(0).inputsVersion, r.inputsVersion, "the same inputs"));
        assertEquals(64, readReleased(manifest).path("max_length").asInt(),
                "the dataset is the settings file's");
    }

    /** Reads a published file and lets the cache delete it, as the services do (the cache checks count what is left). */
    private static JsonNode readReleased(Location file) throws IOException {
        Path fetched = s3Store.fetchFile(file);
        try {
            return new ObjectMapper().readTree(fetched.toFile());
        } finally {
            s3Store.release(fetched);
        }
    }

    private static void put(String key, String content) {
        try (S3Client s3 = S3.server().client()) {
            s3.putObject(b -> b.bucket(BUCKET).key(key), RequestBody.fromString(content));
        }
    }

    @Test
    void anUploadThatIsNoDatasetIsSkippedWithTheReason() throws Exception {
        PrepareResponse response = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/spam/notes.txt");
        assertNotNull(response.skipped);
        assertTrue(response.skipped.startsWith("raw/spam/notes.txt is neither a training file"), response.skipped);
        assertNull(response.output);
    }

    @Test
    void anUploadAboveTheThresholdStartsADistributedRunNamedAfterItsVersion() throws Exception {
        List<String> versions = new java.util.ArrayList<>();
        PrepareRuns configured = prepare.runs;
        prepare.runs = new PrepareRuns(java.util.Optional.of("arn:aws:states:us-east-1:123456789012:stateMachine:gpt2cls-prepare"),
                Files.size(TestModels.MESSAGES) - 1, 100) {
            @Override
            String start(PrepareRequest request, String inputVersions) {
                versions.add(inputVersions);
                return "run " + runName(request, inputVersions);
            }
        };
        try {
            PrepareResponse first = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/spam/train.jsonl");
            PrepareResponse twice = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/spam/train.jsonl");
            assertNotNull(first.distributedRun);
            assertNull(first.accepted, "nothing prepared in this process");
            assertEquals(first.distributedRun, twice.distributedRun, "the same upload delivered twice is one run");
            assertTrue(versions.get(0).startsWith("s3://" + BUCKET + "/raw/spam/train.jsonl \""), versions.get(0));
            try (S3Client s3 = S3.server().client()) {
                s3.putObject(b -> b.bucket(BUCKET).key("raw/spam/train.jsonl"),
                        RequestBody.fromString(Files.readString(TestModels.MESSAGES) + "\n"));
            }
            PrepareResponse replaced = deliver("prepare-s3-put.json", "raw/spam/train.jsonl", "raw/spam/train.jsonl");
            assertTrue(!replaced.distributedRun.equals(first.distributedRun), "a new version of the file is another run");
        } finally {
            prepare.runs = configured;
        }
    }
}
