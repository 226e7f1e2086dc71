package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
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
    static S3Store s3Store;
    static PrepareService prepare;

    @BeforeAll
    static void start() throws Exception {
        S3.init(Map.of("buckets", BUCKET));
        S3.start();
        s3Store = S3Store.create(S3Settings.defaults().withCacheDir(Files.createTempDirectory("s3-cache-")));
        prepare = new PrepareService();
        prepare.store = new RoutingStore(new LocalStore(), () -> s3Store, List.of());
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
