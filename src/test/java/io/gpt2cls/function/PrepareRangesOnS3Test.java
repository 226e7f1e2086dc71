package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;

import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;

import io.gpt2cls.dataset.ParquetFixtures;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.S3ProxyTestResource;
import io.gpt2cls.storage.S3Settings;
import io.gpt2cls.storage.S3Store;

/**
 * A distributed prepare of files larger than its task size on an S3-compatible server, as the state
 * machine runs it: the plan cuts a JSON Lines file into byte ranges and a Parquet file into runs of row
 * groups and stores them; each item of the stored plan runs as a map task, which fetches only its range
 * (ranged GETs, counted here); the reduce publishes what the one-process prepare publishes.
 */
class PrepareRangesOnS3Test {

    static final String BUCKET = "gpt2cls-ranges-test";
    static final S3ProxyTestResource S3 = new S3ProxyTestResource();
    static final ObjectMapper JSON = new ObjectMapper();
    static final int TASK_BYTES = 8 * 1024;
    @TempDir
    static Path work;
    static S3Store s3Store;
    static PrepareService service;
    /** The ranged reads of the store since the last clear: [offset, length asked, bytes read]. */
    static final List<long[]> rangedReads = new ArrayList<>();
    /** The files the store fetched whole since the last clear. */
    static final List<Location> wholeFetches = new ArrayList<>();

    @BeforeAll
    static void start() throws Exception {
        S3.init(Map.of("buckets", BUCKET));
        S3.start();
        s3Store = S3Store.create(S3Settings.defaults().withCacheDir(work.resolve("cache")));
        service = new PrepareService();
        service.store = countingRangedReads(new RoutingStore(new LocalStore(), () -> s3Store, List.of()));
        service.planTaskBytes = TASK_BYTES;
        service.fetchGapBytes = TASK_BYTES / 8; // smaller with the tasks, so a later range is not fetched with the first bytes

        List<String> lines = Files.readAllLines(TestModels.MESSAGES);
        List<ParquetFixtures.Row> rows = new ArrayList<>();
        for (int i = 0; i < 400; i++) { // the writer checks the row group's size first after 100 rows
            JsonNode row = JSON.readTree(lines.get(i % lines.size()));
            rows.add(new ParquetFixtures.Row("forwarded " + i + ": " + row.get("text").asText().substring(0, 200),
                    row.get("label").asText()));
        }
        Path parquet = ParquetFixtures.write(work.resolve("b.parquet"), ParquetFixtures.schema("binary"),
                CompressionCodecName.UNCOMPRESSED, 2 * 1024, rows);
        try (S3Client s3 = S3.server().client()) {
            s3.putObject(b -> b.bucket(BUCKET).key("raw/big/train/a.jsonl"), RequestBody.fromFile(TestModels.MESSAGES));
            s3.putObject(b -> b.bucket(BUCKET).key("raw/big/train/b.parquet"), RequestBody.fromFile(parquet));
            s3.putObject(b -> b.bucket(BUCKET).key("raw/big/test.jsonl"),
                    RequestBody.fromString(String.join("\n", lines.subList(0, 12)) + "\n"));
        }
        assertTrue(Files.size(TestModels.MESSAGES) > 4 * TASK_BYTES && Files.size(parquet) > 2 * TASK_BYTES,
                "both training files are several tasks large");
    }

    @AfterAll
    static void stop() {
        s3Store.close();
        S3.stop();
    }

    /** The store, with every byte its ranged reads hand out counted, and every whole file it fetches. */
    static ArtifactStore countingRangedReads(ArtifactStore store) {
        return (ArtifactStore) Proxy.newProxyInstance(ArtifactStore.class.getClassLoader(), new Class<?>[] {ArtifactStore.class},
                (proxy, method, args) -> {
                    Object result;
                    try {
                        result = method.invoke(store, args);
                    } catch (InvocationTargetException e) {
                        throw e.getCause();
                    }
                    if (method.getName().equals("fetchFile")) {
                        wholeFetches.add((Location) args[0]);
                    }
                    if (!method.getName().equals("openRange")) {
                        return result;
                    }
                    long[] read = {(long) args[2], (long) args[3], 0};
                    synchronized (rangedReads) {
                        rangedReads.add(read);
                    }
                    return new FilterInputStream((InputStream) result) {
                        @Override
                        public int read() throws IOException {
                            int b = super.read();
                            read[2] += b < 0 ? 0 : 1;
                            return b;
                        }

                        @Override
                        public int read(byte[] buffer, int offset, int length) throws IOException {
                            int n = super.read(buffer, offset, length);
                            read[2] += Math.max(n, 0);
                            return n;
                        }
                    };
                });
    }

    private static PrepareRequest request(String output) {
        PrepareRequest request = new PrepareRequest();
        request.train = "s3://" + BUCKET + "/raw/big/train/";
        request.test = "s3://" + BUCKET + "/raw/big/test.jsonl";
        request.output = "s3://" + BUCKET + "/prepared/" + output;
        request.maxLength = 64;
        return request;
    }

    @Test
    void rangesOfLargeFilesMappedOneByOneGiveTheOneProcessDataset() throws Exception {
        PrepareResponse oneProcess = service.prepare(request("one-process"));

        PrepareRequest request = request("distributed");
        List<PlannedTask> items = PrepareDistributedTest.plan(service, request, "run-1");
        long jsonRanges = items.stream().filter(item -> item.file.endsWith("a.jsonl")).count();
        long parquetRanges = items.stream().filter(item -> item.file.endsWith("b.parquet")).count();
        assertTrue(jsonRanges > 4, "a.jsonl in byte ranges: " + jsonRanges);
        assertTrue(parquetRanges > 1, "b.parquet in runs of row groups: " + parquetRanges);
        assertEquals(1, items.stream().filter(item -> item.file.endsWith("test.jsonl")).count(), "the small test file whole");

        PreparePlanRequest retried = new PreparePlanRequest();
        retried.request = request;
        retried.run = "run-1";
        assertEquals(Boolean.TRUE, service.plan(retried).plannedBefore, "the Plan state retried answers the stored plan");
        for (PlannedTask item : items) {
            rangedReads.clear();
            wholeFetches.clear();
            PrepareMapResponse answer = PrepareDistributedTest.map(service, request, "run-1", item);
            assertNull(answer.error);
            if (item.from == 0 && item.to == null) {
                assertEquals(List.of(Location.parse(item.file)), wholeFetches, "a whole file is fetched whole");
                assertEquals(List.of(), rangedReads);
                continue;
            }
            assertEquals(List.of(), wholeFetches, "a range task fetches no whole file: " + item.file + " from " + item.from);
            // the first range of a file also streams the whole file once, through the checksum the manifest records
            Predicate<long[]> checksum = read -> read[0] == 0 && read[1] == item.fileBytes;
            long checksummed = rangedReads.stream().filter(checksum).mapToLong(read -> read[2]).sum();
            long fetched = rangedReads.stream().filter(checksum.negate()).mapToLong(read -> read[2]).sum();
            assertEquals(item.from == 0 ? item.fileBytes : 0L, checksummed, item.file + " from " + item.from);
            assertTrue(fetched < item.fileBytes / 2, item.file + " from " + item.from + ": fetched " + fetched + " of "
                    + item.fileBytes + " bytes");
            assertEquals(fetched, answer.fetchedBytes, "the task reports what it fetched");
            if (item.file.endsWith(".parquet")) {
                // the footer's length, the footer, the first bytes, and the column chunks, which lie one after another
                long requests = rangedReads.stream().filter(checksum.negate()).count();
                assertTrue(requests <= 4, item.file + " from " + item.from + ": " + requests + " ranged GETs");
            }
        }
        PrepareDistributedTest.map(service, request, "run-1", items.get(2)); // a range delivered twice
        PrepareResponse distributed = PrepareDistributedTest.reduce(service, request, "run-1");

        assertNotNull(distributed.accepted);
        assertEquals(oneProcess.accepted, distributed.accepted);
        assertEquals(oneProcess.rejected, distributed.rejected);
        PrepareDistributedTest.assertSamePreparedSet(
                s3Store.fetchSet(Location.parse(request("one-process").output), "manifest.json"),
                s3Store.fetchSet(Location.parse(request.output), "manifest.json"));
    }
}
