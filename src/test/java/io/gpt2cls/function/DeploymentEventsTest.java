package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.infra.AppSettings;
import io.gpt2cls.infra.EventPattern;
import io.gpt2cls.infra.InputTransformer;
import io.gpt2cls.infra.Template;
import io.gpt2cls.storage.Location;

/**
 * The payloads in events/ as the deployed stack delivers them: each trigger's rule in infra/template.yaml
 * matches its event (and only the objects it should), and what the target receives is a request the code
 * reads. Every file in events/ is exercised here or in PrepareTriggerEventsTest.
 */
class DeploymentEventsTest {

    static final Template TEMPLATE = Template.load();
    static final ObjectMapper JSON = new ObjectMapper();

    static JsonNode event(String file) throws IOException {
        return JSON.readTree(Path.of("events", file).toFile());
    }

    /** An S3 "Object Created" event for another key (and optionally bucket or type), from a sample event. */
    static JsonNode objectCreated(String key) throws IOException {
        ObjectNode event = (ObjectNode) event("finetune-manifest-eventbridge.json");
        ((ObjectNode) event.get("detail").get("object")).put("key", key);
        return event;
    }

    @SuppressWarnings("unchecked")
    static Map<String, Object> samEvent(String resource, String name) {
        Map<String, Object> events = (Map<String, Object>) TEMPLATE.properties(resource).get("Events");
        return (Map<String, Object>) ((Map<String, Object>) events.get(name)).get("Properties");
    }

    static JsonNode finetunePattern() {
        return TEMPLATE.json(TEMPLATE.properties("FinetuneOnManifest").get("EventPattern"));
    }

    @SuppressWarnings("unchecked")
    static JsonNode finetuneJobOverrides(JsonNode event) {
        Map<String, Object> target = ((List<Map<String, Object>>) TEMPLATE.properties("FinetuneOnManifest").get("Targets")).get(0);
        Map<String, Object> transformer = (Map<String, Object>) target.get("InputTransformer");
        return InputTransformer.apply((Map<String, String>) transformer.get("InputPathsMap"), (String) transformer.get("InputTemplate"), event);
    }

    // ---- finetune: prepared/<dataset>/manifest.json -> a Batch job -------------------------------------

    @Test
    void theManifestOfAPreparedDatasetSubmitsItsFinetuneJob() throws IOException {
        JsonNode event = event("finetune-manifest-eventbridge.json");
        assertTrue(EventPattern.matches(finetunePattern(), event));

        JsonNode overrides = finetuneJobOverrides(event);
        JsonNode environment = overrides.path("ContainerOverrides").path("Environment");
        assertEquals(1, environment.size(), overrides.toString());
        assertEquals("GPT2CLS_JOB_REQUEST", environment.get(0).get("Name").asText());
        String request = environment.get(0).get("Value").asText();
        assertTrue(AppSettings.environmentVariables().contains("GPT2CLS_JOB_REQUEST"));

        // Main reads a GPT2CLS_JOB_REQUEST that starts with '{' as the request itself
        FinetuneRequest parsed = RequestParser.parse(request, FinetuneRequest.class);
        assertEquals("s3://" + Template.BUCKET + "/prepared/spam/manifest.json", parsed.dataset);
        Location dataset = FinetuneService.datasetLocation(parsed.dataset);
        assertEquals("s3://" + Template.BUCKET + "/prepared/spam", dataset.toString());
        assertEquals("s3://" + Template.BUCKET + "/models/spam", FinetuneService.conventionalOutput(dataset).toString());
    }

    @Test
    void onlyAManifestDirectlyUnderPreparedMatches() throws IOException {
        JsonNode pattern = finetunePattern();
        assertTrue(EventPattern.matches(pattern, objectCreated("prepared/imdb-reviews/manifest.json")));
        for (String key : List.of("prepared/spam/other.json", "prepared/spam/manifest.json.tmp", "prepared/manifest.json",
                "raw/spam/manifest.json", "models/spam/manifest.json", "batch/results/run-1/manifest.json", "prepared/spam/train-00000.safetensors")) {
            assertFalse(EventPattern.matches(pattern, objectCreated(key)), key);
        }
        ObjectNode otherBucket = (ObjectNode) objectCreated("prepared/spam/manifest.json");
        ((ObjectNode) otherBucket.get("detail").get("bucket")).put("name", "someone-elses-bucket");
        assertFalse(EventPattern.matches(pattern, otherBucket));
        ObjectNode deleted = (ObjectNode) objectCreated("prepared/spam/manifest.json");
        deleted.put("detail-type", "Object Deleted");
        assertFalse(EventPattern.matches(pattern, deleted));
    }

    @Test
    void aManifestNestedDeeperMatchesTheWildcardButTheJobRefusesItWithoutRetry() throws IOException {
        // EventBridge's * also matches '/', so prepared/a/b/manifest.json matches the rule; finetune then
        // has no conventional output for it: an error response, exit code 1, which Batch does not retry.
        JsonNode event = objectCreated("prepared/team/spam/manifest.json");
        assertTrue(EventPattern.matches(finetunePattern(), event));
        String request = finetuneJobOverrides(event).at("/ContainerOverrides/Environment/0/Value").asText();
        Location dataset = FinetuneService.datasetLocation(RequestParser.parse(request, FinetuneRequest.class).dataset);
        InvalidRequestException refused = assertThrows(InvalidRequestException.class, () -> FinetuneService.conventionalOutput(dataset));
        assertEquals("output", refused.field());
    }

    // ---- prepare: raw/<dataset>/train.<ext> or a settings file -> the prepare function -----------------

    @Test
    void trainingFilesAndSettingsFilesUnderRawStartPrepare() throws IOException {
        JsonNode pattern = TEMPLATE.json(samEvent("PrepareFunction", "RawUpload").get("Pattern"));
        JsonNode sidecar = event("prepare-eventbridge.json");
        assertTrue(EventPattern.matches(pattern, sidecar));
        assertEquals(List.of(new PrepareTrigger.ObjectCreated(Template.BUCKET, "raw/spam/train.prepare.json")),
                RequestParser.parse(sidecar.toString(), PrepareRequest.class).triggeredBy);
        for (String key : List.of("raw/spam/train.jsonl", "raw/spam/train.csv", "raw/imdb/train.jsonl.gz", "raw/spam/test.prepare.json")) {
            assertTrue(EventPattern.matches(pattern, objectCreated(key)), key);
        }
        for (String key : List.of("raw/spam/test.jsonl", "raw/spam/part-00001.jsonl", "prepared/spam/train.jsonl",
                "batch/input/train.jsonl", "raw/spam/training-notes.txt")) {
            assertFalse(EventPattern.matches(pattern, objectCreated(key)), key);
        }
    }

    // ---- batch classification: batch/input/*.jsonl|csv -> the state machine -> classify ---------------

    @SuppressWarnings("unchecked")
    static Map<String, Object> states() {
        return (Map<String, Object>) ((Map<String, Object>) TEMPLATE.properties("BatchClassifyStateMachine").get("Definition")).get("States");
    }

    /** Where the state machine's first (Choice) state sends an input: Step Functions' StringMatches is a * wildcard. */
    @SuppressWarnings("unchecked")
    static String chosenState(JsonNode input) {
        Map<String, Object> choice = (Map<String, Object>) states().get("ChooseReader");
        for (Map<String, Object> rule : (List<Map<String, Object>>) choice.get("Choices")) {
            assertEquals("$.object.key", rule.get("Variable"));
            if (EventPattern.wildcard((String) rule.get("StringMatches"), input.at("/object/key").asText())) {
                return (String) rule.get("Next");
            }
        }
        return (String) choice.get("Default");
    }

    @Test
    @SuppressWarnings("unchecked")
    void aFileUnderBatchInputStartsBatchClassificationWithTheMatchingReader() throws IOException {
        Map<String, Object> trigger = samEvent("BatchClassifyStateMachine", "BatchInputUpload");
        JsonNode event = event("batch-classify-eventbridge.json");
        assertTrue(EventPattern.matches(TEMPLATE.json(trigger.get("Pattern")), event));
        assertEquals("$.detail", trigger.get("InputPath"));
        JsonNode input = event.get("detail");
        assertEquals("ClassifyJsonLines", chosenState(input));
        Map<String, Object> jsonLines = (Map<String, Object>) states().get("ClassifyJsonLines");
        assertEquals("JSONL", ((Map<String, Object>) ((Map<String, Object>) jsonLines.get("ItemReader")).get("ReaderConfig")).get("InputType"));

        JsonNode csv = objectCreated("batch/input/messages.csv");
        assertTrue(EventPattern.matches(TEMPLATE.json(trigger.get("Pattern")), csv));
        assertEquals("ClassifyCsvRows", chosenState(csv.get("detail")));
        assertFalse(EventPattern.matches(TEMPLATE.json(trigger.get("Pattern")), objectCreated("batch/results/run/SUCCEEDED_0.json")));
        assertEquals("UnsupportedInput", chosenState(objectCreated("batch/input/messages.parquet").get("detail")));
    }

    @Test
    @SuppressWarnings("unchecked")
    void aDistributedMapBatchIsAClassifyRequestWithItsItemsInOrder() throws IOException {
        JsonNode batch = event("classify-distributed-map.json");
        ClassifyRequest request = RequestParser.parse(batch.toString(), ClassifyRequest.class);
        List<String> texts = new ArrayList<>();
        List<JsonNode> ids = new ArrayList<>();
        batch.get("Items").forEach(item -> {
            texts.add(item.get("text").asText());
            ids.add(item.get("id"));
        });
        assertEquals(texts, request.allTexts());
        assertEquals(ids, request.itemIds);

        // the batch the state machine sends: at most classify's max-texts items, and the BatchInput it builds
        Map<String, Object> batcher = (Map<String, Object>) ((Map<String, Object>) states().get("ClassifyJsonLines")).get("ItemBatcher");
        assertEquals(AppSettings.defaultOf(AppConfig.Classify.class, "maxTexts"), String.valueOf(batcher.get("MaxItemsPerBatch")));
        assertTrue(batch.get("Items").size() <= (Integer) batcher.get("MaxItemsPerBatch"));
        Set<String> sent = new TreeSet<>();
        ((Map<String, Object>) batcher.get("BatchInput")).keySet().forEach(k -> sent.add(k.replace(".$", "")));
        Set<String> inEvent = new TreeSet<>();
        batch.get("BatchInput").fieldNames().forEachRemaining(inEvent::add);
        assertEquals(sent, inEvent);
        assertEquals(event("batch-classify-eventbridge.json").at("/detail/object/key").asText(), batch.at("/BatchInput/source").asText());
    }

    @Test
    void aFunctionUrlEventCarriesAClassifyRequest() throws IOException {
        JsonNode url = event("classify-function-url.json");
        ClassifyRequest request = RequestParser.parse(url.toString(), ClassifyRequest.class);
        assertEquals(JSON.readTree(url.get("body").asText()).get("texts").size(), request.allTexts().size());
        assertEquals(url.at("/headers/content-length").asInt(), url.get("body").asText().getBytes(java.nio.charset.StandardCharsets.UTF_8).length);
    }

    @Test
    void directRequestsParse() throws IOException {
        assertEquals(1, RequestParser.parse(Files.readString(Path.of("events/classify-single.json")), ClassifyRequest.class).allTexts().size());
        assertEquals(4, RequestParser.parse(Files.readString(Path.of("events/classify-batch.json")), ClassifyRequest.class).allTexts().size());
        assertEquals(2, RequestParser.parse(Files.readString(Path.of("events/classify.json")), ClassifyRequest.class).allTexts().size());
        assertEquals("runs/events/prepared/spam", RequestParser.parse(Files.readString(Path.of("events/prepare.json")), PrepareRequest.class).output);
        assertEquals("runs/events/models/spam", RequestParser.parse(Files.readString(Path.of("events/finetune.json")), FinetuneRequest.class).output);
    }

    // ---- failures: Batch's events -> the failure topic ------------------------------------------------

    @Test
    @SuppressWarnings("unchecked")
    void aFailedFinetuneJobIsMailedWithItsReasonAndWhereItsLogIs() throws IOException {
        ObjectNode failed = (ObjectNode) event("finetune-job-failed-eventbridge.json");
        JsonNode pattern = TEMPLATE.json(TEMPLATE.properties("FinetuneJobFailed").get("EventPattern"));
        assertFalse(EventPattern.matches(pattern, failed), "another queue's job");
        ((ObjectNode) failed.get("detail")).put("jobQueue", "arn-of:FinetuneJobQueue"); // the template's queue, as Template resolves it
        assertTrue(EventPattern.matches(pattern, failed));
        for (String status : List.of("SUBMITTED", "RUNNABLE", "STARTING", "RUNNING", "SUCCEEDED")) {
            ObjectNode other = failed.deepCopy();
            ((ObjectNode) other.get("detail")).put("status", status);
            assertFalse(EventPattern.matches(pattern, other), status);
        }
        Map<String, Object> target = ((List<Map<String, Object>>) TEMPLATE.properties("FinetuneJobFailed").get("Targets")).get(0);
        Map<String, Object> transformer = (Map<String, Object>) target.get("InputTransformer");
        JsonNode message = InputTransformer.apply((Map<String, String>) transformer.get("InputPathsMap"),
                (String) TEMPLATE.resolve(transformer.get("InputTemplate")), failed);
        assertTrue(message.isTextual(), message.toString());
        assertTrue(message.asText().startsWith("Fine-tuning job gpt2cls-finetune (4c7599ae-0a82-49aa-ba5a-4727fcce14a8) failed:"
                + " Essential container in task exited. Its log: CloudWatch log group /aws/batch/" + Template.STACK + "-finetune"),
                message.asText());
    }

    @Test
    void theSampleUploadEventsCarryTheVersionIdOfTheVersionedBucket() throws IOException {
        assertFalse(event("prepare-s3-put.json").at("/Records/0/s3/object/versionId").asText().isEmpty());
        for (String file : List.of("prepare-eventbridge.json", "finetune-manifest-eventbridge.json", "batch-classify-eventbridge.json")) {
            assertFalse(event(file).at("/detail/object/version-id").asText().isEmpty(), file);
        }
    }

    // ---- distributed prepare: the state machine PrepareFunction starts for a large upload ------------------

    @SuppressWarnings("unchecked")
    static Map<String, Object> prepareStates() {
        return (Map<String, Object>) ((Map<String, Object>) TEMPLATE.properties("PrepareStateMachine").get("Definition")).get("States");
    }

    /** A Parameters-style template as Step Functions fills it: "k.$" paths from the input, $$ from the context. */
    @SuppressWarnings("unchecked")
    static ObjectNode fill(Map<String, Object> template, JsonNode input, String run, JsonNode item) {
        ObjectNode out = JSON.createObjectNode();
        template.forEach((key, value) -> {
            if (!key.endsWith(".$")) {
                out.set(key, value instanceof Map ? fill((Map<String, Object>) value, input, run, item) : JSON.valueToTree(value));
                return;
            }
            String path = (String) value;
            String name = key.substring(0, key.length() - 2);
            if (path.equals("$$.Execution.Name")) {
                out.put(name, run);
            } else if (path.equals("$$.Map.Item.Value")) {
                out.set(name, item);
            } else {
                assertTrue(path.startsWith("$."), path);
                out.set(name, input.at("/" + path.substring(2).replace('.', '/')));
            }
        });
        return out;
    }

    @Test
    @SuppressWarnings("unchecked")
    void aDistributedPreparePlansMapsEachItemOfThePlanThenReducesTheRun() throws IOException {
        JsonNode execution = event("prepare-distributed-execution.json");
        PrepareRequest request = RequestParser.parse(execution.get("request").toString(), PrepareRequest.class);
        assertEquals(execution, PrepareRuns.executionInput(request, execution.get("max_concurrency").asInt()),
                "PrepareFunction starts the run with this input");
        String run = event("prepare-map-item.json").get("run").asText();

        Map<String, Object> plan = (Map<String, Object>) prepareStates().get("Plan");
        ObjectNode planPayload = fill((Map<String, Object>) ((Map<String, Object>) plan.get("Parameters")).get("Payload"),
                execution, run, null);
        assertEquals(event("prepare-plan.json"), planPayload);
        assertEquals(run, RequestParser.parse(planPayload.toString(), PreparePlanRequest.class).run);
        PreparePlanResponse planned = JSON.readValue(Path.of("events", "prepare-plan-result.json").toFile(), PreparePlanResponse.class);
        assertEquals("s3://" + planned.bucket + "/" + planned.key, planned.plan);
        assertEquals(PrepareService.runLocation(request, run).resolve(PrepareService.PLAN).resolve(PrepareService.PLAN_FILE).toString(),
                planned.plan, "the plan is stored under the run");

        // the ItemReader reads the plan's bucket and key from the Plan state's answer
        ObjectNode afterPlan = execution.deepCopy();
        afterPlan.putObject("plan").set("answer", event("prepare-plan-result.json"));
        Map<String, Object> map = (Map<String, Object>) prepareStates().get("MapTasks");
        ObjectNode reader = fill((Map<String, Object>) ((Map<String, Object>) map.get("ItemReader")).get("Parameters"),
                afterPlan, run, null);
        assertEquals(planned.bucket, reader.get("Bucket").asText());
        assertEquals(planned.key, reader.get("Key").asText());
        assertEquals(0, map.get("ToleratedFailurePercentage"), "a failed task fails the run");
        assertEquals("$.max_concurrency", map.get("MaxConcurrencyPath"));
        ObjectNode payload = fill((Map<String, Object>) map.get("ItemSelector"), afterPlan, run, event("prepare-plan-item.json"));
        assertEquals(event("prepare-map-item.json"), payload, "an item of the plan becomes the map task's request");

        PrepareMapRequest mapRequest = RequestParser.parse(payload.toString(), PrepareMapRequest.class);
        assertEquals("s3://gpt2cls-data-123456789012/raw/reviews/train/part-00017.jsonl", mapRequest.task.file);
        assertEquals(268435456L, mapRequest.task.from);
        PrepareMapResponse answer = JSON.readValue(Path.of("events", "prepare-map-result.json").toFile(), PrepareMapResponse.class);
        assertEquals(mapRequest.task.file, answer.file);
        assertEquals(mapRequest.task.to, answer.to);
        assertEquals(PrepareService.runLocation(request, run).resolve(mapRequest.task.task(null).key()).toString(), answer.part);
        assertTrue(answer.fetchedBytes < mapRequest.task.fileBytes, "a range task fetches its range, not the file");

        Map<String, Object> reduce = (Map<String, Object>) prepareStates().get("Reduce");
        ObjectNode reducePayload = fill((Map<String, Object>) ((Map<String, Object>) reduce.get("Parameters")).get("Payload"),
                afterPlan, run, null);
        assertEquals(event("prepare-reduce.json"), reducePayload);
        assertEquals(run, RequestParser.parse(reducePayload.toString(), PrepareReduceRequest.class).run);
    }

    /** A new payload in events/ needs a test that feeds it to the code that reads it. */
    @Test
    void everyEventFileIsExercised() throws IOException {
        Set<String> exercised = Set.of("batch-classify-eventbridge.json", "classify-batch.json", "classify-distributed-map.json",
                "classify-function-url.json", "classify-single.json", "classify.json", "finetune-job-failed-eventbridge.json",
                "finetune-manifest-eventbridge.json",
                "finetune.json", "prepare-eventbridge.json", "prepare.json", "prepare-distributed-execution.json",
                "prepare-plan.json", "prepare-plan-result.json", "prepare-plan-item.json", "prepare-map-item.json",
                "prepare-map-result.json", "prepare-reduce.json",
                "finetune-from-hub.json", // FinetuneFromHubTest
                "prepare-s3-put.json"); // PrepareTriggerEventsTest
        try (Stream<Path> files = Files.list(Path.of("events"))) {
            assertEquals(new TreeSet<>(exercised), new TreeSet<>(files.map(f -> f.getFileName().toString()).toList()));
        }
    }
}
