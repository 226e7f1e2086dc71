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
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.dataset.DatasetException;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.PublishConflictException;

/**
 * The functions of a distributed prepare, as the state machine calls them (events/prepare-plan.json,
 * events/prepare-map-item.json, events/prepare-reduce.json): {@code preparePlan}, one {@code prepareMap}
 * per item of the plan (whole files and ranges of them), then {@code prepareReduce}, publish what
 * {@code prepare} publishes for the same request; a second delivery of a task or of the reduce changes
 * nothing.
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

    /** The run's plan, as the Distributed Map reads it: the items of the JSON array the plan step stored. */
    static List<PlannedTask> plan(PrepareService service, PrepareRequest request, String run) throws Exception {
        PreparePlanRequest plan = new PreparePlanRequest();
        plan.request = request;
        plan.run = run;
        PreparePlanResponse answer = service.plan(plan);
        assertNull(answer.error);
        List<PlannedTask> items = List.of(JSON.readValue(service.store.fetchFile(
                Location.parse(answer.plan)).toFile(), PlannedTask[].class));
        assertEquals(items.size(), answer.tasks);
        return items;
    }

    /** A map task as the Distributed Map's ItemSelector builds it: the request, the run and the plan's item. */
    static PrepareMapResponse map(PrepareService service, PrepareRequest request, String run, PlannedTask item) {
        PrepareMapRequest task = new PrepareMapRequest();
        task.request = request;
        task.run = run;
        task.task = item;
        return service.map(task);
    }

    static PrepareResponse reduce(PrepareService service, PrepareRequest request, String run) {
        PrepareReduceRequest reduce = new PrepareReduceRequest();
        reduce.request = request;
        reduce.run = run;
        return service.reduce(reduce);
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
    void planThenMapTasksThenTheReducePublishWhatPrepareDoes() throws Exception {
        PrepareResponse oneProcess = service.prepare(request("one-process"));

        PrepareRequest request = request("distributed");
        service.planTaskBytes = 4000; // the plain JSON Lines files are cut into ranges, the gzip one stays whole
        List<PlannedTask> items = plan(service, request, "run-1");
        assertEquals(List.of("part-0.jsonl", "part-1.jsonl.gz", "part-2.jsonl"), items.stream()
                .map(item -> item.file.substring(item.file.lastIndexOf('/') + 1)).distinct().toList(),
                "the input's files only: not README.txt, not old/part-9.jsonl");
        assertTrue(items.stream().filter(item -> item.file.endsWith("part-0.jsonl")).count() > 1, "part-0.jsonl in ranges");
        for (PlannedTask item : items) {
            assertNotNull(map(service, request, "run-1", item).part);
        }
        map(service, request, "run-1", items.get(1)); // delivered twice
        PrepareResponse distributed = reduce(service, request, "run-1");

        assertEquals(oneProcess.accepted, distributed.accepted);
        assertEquals(oneProcess.rejected, distributed.rejected);
        assertEquals(oneProcess.splits, distributed.splits);
        assertSamePreparedSet(work.resolve("one-process"), work.resolve("distributed"));
        Path runDir = work.resolve("distributed").resolve(PrepareService.RUNS).resolve("run-1");
        try (Stream<Path> left = Files.walk(runDir)) {
            assertEquals(List.of(PrepareService.REDUCED_ANSWER), left.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString()).toList(), "the plan and the map results are gone, the answer is kept");
        }

        byte[] manifest = Files.readAllBytes(work.resolve("distributed/manifest.json"));
        PrepareResponse again = reduce(service, request, "run-1");
        assertNotNull(again.reducedBefore, "a second reduce of the run answers the first");
        assertNull(again.accepted);
        assertArrayEquals(manifest, Files.readAllBytes(work.resolve("distributed/manifest.json")), "and publishes nothing");

        // the bucket's lifecycle rule removes the run's records after PrepareRunDays; a Step Functions redrive may come later
        try (Stream<Path> records = Files.walk(runDir)) {
            records.sorted(java.util.Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
        }
        DatasetException expired = assertThrows(DatasetException.class, () -> reduce(service, request, "run-1"));
        assertTrue(expired.getMessage().contains("or its records expired"), expired.getMessage());
        assertArrayEquals(manifest, Files.readAllBytes(work.resolve("distributed/manifest.json")), "the published dataset stays");
    }

    /** The files of two prepared sets are the same; the manifests field by field, but for the creation time and the request's hash. */
    static void assertSamePreparedSet(Path expectedDir, Path actualDir) throws Exception {
        Map<String, byte[]> expected = files(expectedDir);
        Map<String, byte[]> actual = files(actualDir);
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
    }

    @Test
    void aSecondPlanOfTheRunAnswersTheStoredPlanEvenWhenTheInputChanged() throws Exception {
        PrepareRequest request = request("distributed");
        List<PlannedTask> first = plan(service, request, "run-4");
        Files.writeString(raw.resolve("part-3.jsonl"), "{\"text\": \"late\", \"label\": \"spam\"}\n");
        PreparePlanRequest again = new PreparePlanRequest();
        again.request = request;
        again.run = "run-4";
        PreparePlanResponse answer = service.plan(again);
        assertEquals(Boolean.TRUE, answer.plannedBefore);
        assertEquals(JSON.writeValueAsString(first), JSON.writeValueAsString(plan(service, request, "run-4")),
                "the run keeps the tasks it started with");
        assertEquals(4, plan(service, request, "run-5").stream().map(item -> item.file).distinct().count(),
                "a new run plans the new file");
    }

    /** Another attempt of the run holds the plan's lease: this one waits, then answers what the holder stored. */
    @Test
    void aPlanAttemptWhileAnotherPlansAnswersTheOthersPlan() throws Exception {
        PrepareRequest request = request("distributed");
        byte[] othersPlan = JSON.writeValueAsBytes(plan(service, request, "run-other").subList(0, 2));
        Location planLocation = PrepareService.runLocation(request, "run-6").resolve(PrepareService.PLAN);
        service.planWait = Duration.ofSeconds(60);
        try (var other = service.store.stage(planLocation, PrepareService.PLAN_FILE, "plan of run run-6")) {
            var waiting = CompletableFuture.supplyAsync(() -> service.plan(planRequest(request, "run-6")));
            Thread.sleep(3_000); // the waiting attempt has found the lease held
            assertFalse(waiting.isDone(), "it waits while the other attempt plans");
            Files.write(other.dir().resolve(PrepareService.PLAN_FILE), othersPlan);
            other.commit();
            PreparePlanResponse answer = waiting.get(30, TimeUnit.SECONDS);
            assertEquals(Boolean.TRUE, answer.plannedBefore);
            assertEquals(2, answer.tasks, "the other attempt's plan, not one of its own");
        }
    }

    /** The holder goes without storing a plan (it failed, or died and its lease went): the waiting attempt plans. */
    @Test
    void aPlanAttemptPlansItselfWhenTheOtherGoesWithoutAPlan() throws Exception {
        PrepareRequest request = request("distributed");
        Location planLocation = PrepareService.runLocation(request, "run-8").resolve(PrepareService.PLAN);
        service.planWait = Duration.ofSeconds(60);
        CompletableFuture<PreparePlanResponse> waiting;
        try (var other = service.store.stage(planLocation, PrepareService.PLAN_FILE, "plan of run run-8")) {
            waiting = CompletableFuture.supplyAsync(() -> service.plan(planRequest(request, "run-8")));
            Thread.sleep(3_000);
            assertFalse(waiting.isDone());
        } // closed without a commit
        PreparePlanResponse answer = waiting.get(30, TimeUnit.SECONDS);
        assertNull(answer.plannedBefore);
        assertEquals(plan(service, request, "run-9").size(), answer.tasks);
    }

    /** The wait is bounded: past it, the conflict names the holder, and nothing was stored by this attempt. */
    @Test
    void aPlanAttemptGivesUpAfterItsWaitNamingTheHolder() throws Exception {
        PrepareRequest request = request("distributed");
        Location planLocation = PrepareService.runLocation(request, "run-10").resolve(PrepareService.PLAN);
        service.planWait = Duration.ofSeconds(3);
        try (var other = service.store.stage(planLocation, PrepareService.PLAN_FILE, "plan of run run-10")) {
            var conflict = assertThrows(PublishConflictException.class,
                    () -> service.plan(planRequest(request, "run-10")));
            assertTrue(conflict.getMessage().contains("plan of run run-10"), conflict.getMessage());
            assertFalse(service.store.exists(planLocation, PrepareService.PLAN_FILE));
        }
    }

    /** In S3 a run lives under the bucket's prepare-runs/ prefix, which the template's lifecycle rule expires; locally below the output. */
    @Test
    void anS3RunLivesWhereTheBucketsLifecycleRuleExpiresIt() {
        PrepareRequest request = request("distributed");
        request.output = "s3://data/prepared/reviews";
        assertEquals("s3://data/prepare-runs/prepared/reviews/runs/run-1", PrepareService.runLocation(request, "run-1").toString());
        assertEquals("prepare-runs/prepared/reviews", PrepareRuns.executionInput(request, 4).path("results_prefix").asText(),
                "beside the Distributed Map's result manifests");
        request.output = work.resolve("out").toString();
        assertEquals(work.resolve("out/_prepare-runs/run-1").toString(), PrepareService.runLocation(request, "run-1").toString());
    }

    private static PreparePlanRequest planRequest(PrepareRequest request, String run) {
        PreparePlanRequest plan = new PreparePlanRequest();
        plan.request = request;
        plan.run = run;
        return plan;
    }

    /**
     * What the manifest says the dataset was made from is what the run planned and read: a file added
     * (or replaced) after the plan is not in {@code prepared_from}, so its upload is not taken for done.
     */
    @Test
    void theManifestRecordsThePlannedFilesAndVersionsNotALaterListing() throws Exception {
        PrepareRequest request = request("distributed");
        List<PlannedTask> items = plan(service, request, "run-6");
        for (PlannedTask item : items) {
            assertNotNull(map(service, request, "run-6", item).part);
        }
        Files.writeString(raw.resolve("part-3.jsonl"), "{\"text\": \"late\", \"label\": \"spam\"}\n");
        assertNull(reduce(service, request, "run-6").error);

        JsonNode files = JSON.readTree(work.resolve("distributed/manifest.json").toFile()).path("prepared_from").path("files");
        Map<String, String> recorded = new TreeMap<>();
        files.fields().forEachRemaining(entry -> recorded.put(entry.getKey(), entry.getValue().asText()));
        Map<String, String> planned = new TreeMap<>();
        items.forEach(item -> planned.put(item.file, item.fileVersion));
        assertEquals(planned, recorded);
    }

    /** A whole-file task (a gzip file is never cut) reads the planned version too: a replaced file fails it. */
    @Test
    void aWholeFileTaskOfAFileReplacedSinceThePlanFailsNamingTheFile() throws Exception {
        PrepareRequest request = request("distributed");
        List<PlannedTask> items = plan(service, request, "run-7");
        PlannedTask gzip = items.stream().filter(item -> item.file.endsWith("part-1.jsonl.gz")).findFirst().orElseThrow();
        assertTrue(gzip.task(null).isWhole());
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(raw.resolve("part-1.jsonl.gz")))) {
            out.write("{\"text\": \"a replacement\", \"label\": \"spam\"}\n".getBytes(StandardCharsets.UTF_8));
        }
        RuntimeException error = assertThrows(RuntimeException.class, () -> map(service, request, "run-7", gzip));
        assertTrue(error.getMessage().contains(raw.resolve("part-1.jsonl.gz") + "' was replaced after it was planned"),
                error.getMessage());
    }

    @Test
    void aReduceWithoutEveryMapResultFailsNamingTheTask() throws Exception {
        PrepareRequest request = request("distributed");
        service.planTaskBytes = 4000;
        List<PlannedTask> items = plan(service, request, "run-2");
        PlannedTask missing = items.stream().filter(item -> item.file.endsWith("part-0.jsonl") && item.from > 0).findFirst()
                .orElseThrow();
        for (PlannedTask item : items) {
            if (item != missing) {
                map(service, request, "run-2", item);
            }
        }
        DatasetException error = assertThrows(DatasetException.class, () -> reduce(service, request, "run-2"));
        assertEquals("run run-2 has no map result for " + raw + "/part-0.jsonl [" + missing.from + ", "
                + (missing.to == null ? -1 : missing.to) + ") (train file 1 of its input); its map task has not run or failed:"
                + " run the prepare again", error.getMessage());
        assertFalse(Files.exists(work.resolve("distributed/manifest.json")));
    }

    /**
     * A reduce that finds the dataset already published from its run's inputs publishes nothing: what a reduce retried
     * after it committed the dataset but before it stored its answer meets (or a second run of the same upload).
     */
    @Test
    void aReduceFindingItsDatasetPublishedFromTheSameInputsPublishesNothing() throws Exception {
        PrepareRequest request = request("distributed");
        for (PlannedTask item : plan(service, request, "run-7")) {
            map(service, request, "run-7", item);
        }
        PrepareResponse first = reduce(service, request, "run-7");
        assertNull(first.skipped);
        byte[] manifest = Files.readAllBytes(work.resolve("distributed/manifest.json"));

        for (PlannedTask item : plan(service, request, "run-8")) {
            map(service, request, "run-8", item);
        }
        PrepareResponse second = reduce(service, request, "run-8");
        assertNotNull(second.skipped, "the dataset is there, from these inputs");
        assertTrue(second.skipped.contains("already holds the dataset prepared from this run's inputs"), second.skipped);
        assertEquals(first.inputsVersion, second.inputsVersion);
        assertArrayEquals(manifest, Files.readAllBytes(work.resolve("distributed/manifest.json")), "nothing published again");
        Path runDir = work.resolve("distributed").resolve(PrepareService.RUNS).resolve("run-8");
        try (Stream<Path> left = Files.walk(runDir)) {
            assertEquals(List.of(PrepareService.REDUCED_ANSWER), left.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString()).toList(), "its plan and map results are gone, its answer kept");
        }
        assertNotNull(reduce(service, request, "run-8").reducedBefore);
    }

    @Test
    void aReduceWithoutAPlanFailsSayingSo() {
        DatasetException error = assertThrows(DatasetException.class, () -> reduce(service, request("distributed"), "run-6"));
        assertTrue(error.getMessage().startsWith("run run-6 has no plan at "), error.getMessage());
    }

    @Test
    void aBadRunNameOrTaskIsRefusedNamingTheField() throws Exception {
        PrepareRequest request = request("distributed");
        PlannedTask item = plan(service, request, "run-3").get(0);
        InvalidRequestException run = assertThrows(InvalidRequestException.class, () -> map(service, request, "../escape", item));
        assertEquals("run", run.field());
        item.input = "test";
        InvalidRequestException input = assertThrows(InvalidRequestException.class, () -> map(service, request, "run-3", item));
        assertEquals("field 'task.input' must be 'train', got 'test'", input.getMessage());
        item.input = "train";
        item.from = -1L;
        assertEquals("task", assertThrows(InvalidRequestException.class, () -> map(service, request, "run-3", item)).field());
        request.output = "s3://data/prepare-runs/prepared/reviews"; // where runs keep their work, which expires
        InvalidRequestException output = assertThrows(InvalidRequestException.class, () -> service.plan(planRequest(request, "run-3")));
        assertEquals("request.output", output.field());
        assertTrue(output.getMessage().contains("s3://data/prepared/<dataset>"), output.getMessage());
    }

    @Test
    void theExecutionInputNamesWhereTheMapWritesItsResultsAndHowManyTasksRunAtOnce() {
        PrepareRequest request = new PrepareRequest();
        request.train = "s3://data/raw/reviews/train-*.parquet";
        request.test = "s3://data/raw/reviews/test.jsonl";
        request.output = "s3://data/prepared/reviews";
        ObjectNode input = PrepareRuns.executionInput(request, 100);
        assertEquals(100, input.path("max_concurrency").asInt());
        assertEquals("data", input.path("bucket").asText());
        assertEquals("prepare-runs/prepared/reviews", input.path("results_prefix").asText());
        assertEquals("s3://data/raw/reviews/train-*.parquet", input.path("request").path("train").asText());
        assertFalse(input.has("train"), "the plan step lists the inputs, not the state machine");
    }
}
