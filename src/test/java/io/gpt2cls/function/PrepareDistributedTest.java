package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.dataset.DatasetException;
import io.gpt2cls.storage.LocalStore;

/**
 * The functions of a distributed prepare, as the state machine calls them (events/prepare-map-item.json,
 * events/prepare-reduce.json): one {@code prepareMap} per listed object, then {@code prepareReduce},
 * publish what {@code prepare} publishes for the same request; a second delivery of a task or of the
 * reduce changes nothing.
 */
class PrepareDistributedTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path work;
    Path raw;
    PrepareService service;

    @BeforeEach
    void uploads() throws Exception {
        raw = Files.createDirectories(work.resolve("raw/tickets"));
        List<String> lines = Files.readAllLines(TestModels.MESSAGES);
        Files.write(raw.resolve("part-0.jsonl"), lines.subList(0, 30));
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(raw.resolve("part-1.jsonl.gz")))) {
            out.write((String.join("\n", lines.subList(30, 60)) + "\n{not json\n").getBytes(StandardCharsets.UTF_8));
        }
        Files.write(raw.resolve("part-2.jsonl"), lines.subList(60, lines.size()));
        Files.writeString(raw.resolve("README.txt"), "notes");               // listed too: a map task skips it
        Files.createDirectories(raw.resolve("old")).resolve("part-9.jsonl");
        Files.write(raw.resolve("old/part-9.jsonl"), lines.subList(0, 5));    // listed under the prefix, not in the input
        service = new PrepareService();
        service.store = new LocalStore();
    }

    private PrepareRequest request(String output) {
        PrepareRequest request = new PrepareRequest();
        request.train = raw + "/";
        request.output = work.resolve(output).toString();
        request.maxLength = 64;
        request.testFraction = 0.25;
        return request;
    }

    private PrepareMapResponse map(PrepareRequest request, String run, Path file) {
        PrepareMapRequest item = new PrepareMapRequest();
        item.request = request;
        item.run = run;
        item.input = "train";
        item.file = file.toString();
        return service.map(item);
    }

    private PrepareResponse reduce(PrepareRequest request, String run) {
        PrepareReduceRequest reduce = new PrepareReduceRequest();
        reduce.request = request;
        reduce.run = run;
        return service.reduce(reduce);
    }

    /** Every object below the prefix, as the Distributed Map's S3 listing gives them. */
    private List<Path> listing() throws Exception {
        try (Stream<Path> files = Files.walk(raw)) {
            return files.filter(Files::isRegularFile).sorted().toList();
        }
    }

    private static Map<String, byte[]> files(Path dir) throws Exception {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> list = Files.list(dir)) {
            for (Path file : (Iterable<Path>) list.filter(Files::isRegularFile)::iterator) {
                files.put(file.getFileName().toString(), Files.readAllBytes(file));
            }
        }
        return files;
    }

    @Test
    void mapTasksThenTheReducePublishWhatPrepareDoes() throws Exception {
        PrepareResponse oneProcess = service.prepare(request("one-process"));

        PrepareRequest request = request("distributed");
        List<String> skipped = new ArrayList<>();
        for (Path file : listing()) {
            PrepareMapResponse answer = map(request, "run-1", file);
            if (answer.skipped != null) {
                skipped.add(file.getFileName().toString());
            } else {
                assertNotNull(answer.part);
            }
        }
        map(request, "run-1", raw.resolve("part-1.jsonl.gz")); // delivered twice
        assertEquals(List.of("README.txt", "part-9.jsonl"), skipped.stream().sorted().toList());
        PrepareResponse distributed = reduce(request, "run-1");

        assertEquals(oneProcess.accepted, distributed.accepted);
        assertEquals(oneProcess.rejected, distributed.rejected);
        assertEquals(oneProcess.splits, distributed.splits);
        Map<String, byte[]> expected = files(work.resolve("one-process"));
        Map<String, byte[]> actual = files(work.resolve("distributed"));
        assertEquals(expected.keySet(), actual.keySet());
        for (String name : expected.keySet()) {
            if (name.equals("manifest.json")) {
                ObjectNode expectedManifest = (ObjectNode) JSON.readTree(expected.get(name));
                ObjectNode actualManifest = (ObjectNode) JSON.readTree(actual.get(name));
                expectedManifest.remove("created_at");
                actualManifest.remove("created_at");
                // the inputs version hashes the request as each path got it (a distributed run's travels in its
                // execution input); the input files and their versions must still be the same
                ((ObjectNode) expectedManifest.get("prepared_from")).remove("inputs_version");
                ((ObjectNode) actualManifest.get("prepared_from")).remove("inputs_version");
                assertEquals(expectedManifest, actualManifest);
            } else {
                assertArrayEquals(expected.get(name), actual.get(name), name);
            }
        }
        Path runDir = work.resolve("distributed").resolve(PrepareService.RUNS).resolve("run-1");
        try (Stream<Path> left = Files.walk(runDir)) {
            assertEquals(List.of(PrepareService.REDUCED_ANSWER), left.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString()).toList(), "the map results are gone, the answer is kept");
        }

        byte[] manifest = Files.readAllBytes(work.resolve("distributed/manifest.json"));
        PrepareResponse again = reduce(request, "run-1");
        assertNotNull(again.reducedBefore, "a second reduce of the run answers the first");
        assertNull(again.accepted);
        assertArrayEquals(manifest, Files.readAllBytes(work.resolve("distributed/manifest.json")), "and publishes nothing");
    }

    @Test
    void aReduceWithoutEveryMapResultFailsNamingTheFile() throws Exception {
        PrepareRequest request = request("distributed");
        map(request, "run-2", raw.resolve("part-0.jsonl"));
        map(request, "run-2", raw.resolve("part-2.jsonl"));
        DatasetException error = assertThrows(DatasetException.class, () -> reduce(request, "run-2"));
        assertEquals("run run-2 has no map result for " + raw + "/part-1.jsonl.gz (train file 2 of its input); its map task"
                + " has not run or failed: run the prepare again", error.getMessage());
        assertFalse(Files.exists(work.resolve("distributed/manifest.json")));
    }

    @Test
    void aBadRunNameOrInputIsRefusedNamingTheField() {
        PrepareRequest request = request("distributed");
        InvalidRequestException run = assertThrows(InvalidRequestException.class,
                () -> map(request, "../escape", raw.resolve("part-0.jsonl")));
        assertEquals("run", run.field());
        PrepareMapRequest item = new PrepareMapRequest();
        item.request = request;
        item.run = "run-3";
        item.input = "test";
        item.file = raw.resolve("part-0.jsonl").toString();
        InvalidRequestException input = assertThrows(InvalidRequestException.class, () -> service.map(item));
        assertEquals("field 'input' must be 'train', got 'test'", input.getMessage());
    }

    @Test
    void theExecutionInputNamesTheBucketAndThePrefixesToList() {
        PrepareRequest request = new PrepareRequest();
        request.train = "s3://data/raw/reviews/train-*.parquet";
        request.test = "s3://data/raw/reviews/test.jsonl";
        request.output = "s3://data/prepared/reviews";
        ObjectNode input = PrepareRuns.executionInput(request, 100);
        assertEquals(100, input.path("max_concurrency").asInt());
        assertEquals("data", input.path("bucket").asText());
        assertEquals("raw/reviews/", input.path("train").path("prefix").asText());
        assertEquals("raw/reviews/test.jsonl", input.path("test").path("prefix").asText());
        assertEquals("prepare-runs/prepared/reviews", input.path("results_prefix").asText());
        assertEquals("s3://data/raw/reviews/train-*.parquet", input.path("request").path("train").asText());
    }
}
