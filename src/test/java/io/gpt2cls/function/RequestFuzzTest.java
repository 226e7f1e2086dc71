package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.StorageException;

/**
 * Thousands of malformed requests per function, read as the Lambda runtime reads them and answered
 * by the function adapters: every answer is an error object a person can act on (never an internal
 * error, never a Java class name or exception text), and the functions keep answering.
 */
class RequestFuzzTest {

    static final int REQUESTS_PER_FUNCTION = 2000;
    /** Fully qualified names, exception names and JVM wording that must never reach a caller. */
    static final Pattern LEAK = Pattern.compile(
            "Exception|java\\.|javax\\.|jakarta\\.|com\\.fasterxml|io\\.gpt2cls|io\\.quarkus|ai\\.djl|Cannot invoke|because \"|\\$[A-Z]");
    static final ObjectMapper JSON = new ObjectMapper();
    static final String WORK = TestModels.work().resolve("fuzz").toString();

    static PrepareFunction prepare;
    static FinetuneFunction finetune;
    static ClassifyFunction classify;
    static ClassifyService classifyService;

    @BeforeAll
    static void functions() {
        // Damaged paths ("/tm,p/...", "tmp/...") are refused by the allowlist rather than created
        // wherever they point: a fuzz run must not write outside its work folder.
        RoutingStore store = new RoutingStore(new LocalStore(), () -> {
            throw new StorageException("s3:// locations need the S3 store");
        }, List.of(Location.parse(WORK), Location.parse(TestModels.trainedModel().toString())));
        prepare = new PrepareFunction();
        prepare.service = new PrepareService();
        prepare.service.store = store;
        prepare.service.baseModels = BaseModels.of(store, new TestConfig());
        finetune = new FinetuneFunction();
        finetune.service = new FinetuneService();
        finetune.service.store = store;
        finetune.service.config = new TestConfig();
        finetune.service.baseModels = BaseModels.of(store, finetune.service.config);
        classifyService = new ClassifyService();
        classifyService.store = store;
        TestConfig config = new TestConfig();
        config.model = TestModels.trainedModel().toString();
        config.maxTexts = 8;
        config.maxBytesPerText = 2000;
        classifyService.config = config;
        classify = new ClassifyFunction();
        classify.service = classifyService;
    }

    @AfterAll
    static void close() {
        classifyService.close();
    }

    @Test
    void malformedPrepareRequestsAllGetClearErrors() throws Exception {
        fuzz("{\"train\": \"" + WORK + "/missing/train.jsonl\", \"output\": \"" + WORK + "/out\", \"max_length\": 128,"
                        + " \"test_fraction\": 0.2, \"labels\": [\"ham\", \"spam\"], \"truncation_side\": \"left\", \"seed\": 3}",
                PrepareRequest.class, request -> prepare.prepare(request), 11);
    }

    @Test
    void malformedFinetuneRequestsAllGetClearErrors() throws Exception {
        fuzz("{\"dataset\": \"" + WORK + "/missing/ds\", \"output\": \"" + WORK + "/model\", \"preset\": \"tiny\","
                        + " \"training\": {\"learning_rate\": 0.001, \"max_steps\": 2, \"group_by_length\": true,"
                        + " \"eval_strategy\": \"epoch\"}}",
                FinetuneRequest.class, request -> finetune.finetune(request), 12);
    }

    @Test
    void malformedClassifyRequestsAllGetClearErrorsAndTheModelKeepsServing() throws Exception {
        ClassifyRequest normal = RequestParser.parse("{\"text\": \"Subject: meeting notes for Tuesday\"}", ClassifyRequest.class);
        ClassifyResponse before = classify.classify(normal);
        assertNotNull(before.results, String.valueOf(before.error));
        fuzz("{\"text\": \"Subject: cheap meds\", \"texts\": [\"hello\", \"Re: build failure\"]}",
                ClassifyRequest.class, request -> classify.classify(request), 13, REQUESTS_PER_FUNCTION);
        ClassifyResponse after = classify.classify(normal);
        assertEquals(JSON.writeValueAsString(before.results), JSON.writeValueAsString(after.results));
    }

    private <T extends StrictRequest> void fuzz(String valid, Class<T> type, Function<T, FunctionResponse> function, long seed)
            throws Exception {
        fuzz(valid, type, function, seed, REQUESTS_PER_FUNCTION);
    }

    private <T extends StrictRequest> void fuzz(String valid, Class<T> type, Function<T, FunctionResponse> function, long seed,
            int requests) throws Exception {
        Random random = new Random(seed);
        JsonNode base = JSON.readTree(valid);
        int answered = 0;
        int refusedByRuntime = 0;
        for (int i = 0; i < requests; i++) {
            String payload = i % 2 == 0 ? mutateText(valid, random) : JSON.writeValueAsString(mutateTree(base, random));
            T request;
            try {
                request = RequestParserTest.LAMBDA.readValue(payload, type);
            } catch (JsonProcessingException notJson) {
                // The first token is not JSON at all: AWS Lambda refuses such a payload before any function
                // runs. The CLI and HTTP paths read it with RequestParser, which must explain it.
                refusedByRuntime++;
                InvalidRequestException explained = org.junit.jupiter.api.Assertions.assertThrows(InvalidRequestException.class,
                        () -> RequestParser.parse(payload, type));
                assertClean(explained.getMessage(), payload);
                continue;
            }
            FunctionResponse response = function.apply(request);
            answered++;
            String answer = JSON.writeValueAsString(response);
            assertClean(answer, payload);
            if (response.error != null) {
                assertFalse(response.error.type().equals(FunctionError.INTERNAL), "internal error for " + payload + ": " + answer);
                assertFalse(response.error.message().isBlank());
            }
        }
        assertTrue(answered > requests * 3 / 4, "most payloads reach the function: " + answered
                + " (refused by the runtime: " + refusedByRuntime + ")");
    }

    static void assertClean(String answer, String payload) {
        assertFalse(LEAK.matcher(answer).find(), "internal wording in the answer to " + abbreviate(payload) + ": " + abbreviate(answer));
    }

    private static String abbreviate(String s) {
        return s.length() > 300 ? s.substring(0, 300) + "..." : s;
    }

    /** Character-level damage: deletions, insertions of JSON punctuation, cuts, garbage after the end. */
    static String mutateText(String json, Random random) {
        StringBuilder text = new StringBuilder(json);
        int edits = 1 + random.nextInt(4);
        String alphabet = "{}[]\",:\\ 0123456789.eE-+truefalsnul\u00e9\u0000\ud83d\ude00x";
        for (int e = 0; e < edits; e++) {
            int at = random.nextInt(text.length() + 1);
            switch (random.nextInt(5)) {
                case 0 -> { if (at < text.length()) text.deleteCharAt(at); }
                case 1 -> text.insert(at, alphabet.charAt(random.nextInt(alphabet.length())));
                case 2 -> text.setLength(Math.max(0, Math.min(text.length(), at)));
                case 3 -> text.append(random.nextBoolean() ? " x" : "{}");
                default -> text.insert(at, "\"" + "k".repeat(random.nextInt(3)) + "\": 1,");
            }
        }
        return text.toString();
    }

    /** Structural damage: a field's value of another kind, an unknown field, a wrapped or scalar body. */
    static JsonNode mutateTree(JsonNode base, Random random) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        switch (random.nextInt(10)) {
            case 0:
                return f.arrayNode().add(base.deepCopy());
            case 1:
                return randomValue(random, 0);
            case 2: {
                ObjectNode copy = base.deepCopy();
                copy.set("unexpected_" + random.nextInt(100), randomValue(random, 0));
                return copy;
            }
            default: {
                ObjectNode copy = base.deepCopy();
                List<ObjectNode> objects = new ArrayList<>();
                collectObjects(copy, objects);
                ObjectNode target = objects.get(random.nextInt(objects.size()));
                List<String> names = new ArrayList<>();
                for (Iterator<String> it = target.fieldNames(); it.hasNext(); ) {
                    names.add(it.next());
                }
                if (!names.isEmpty()) {
                    String name = names.get(random.nextInt(names.size()));
                    JsonNode value = target.get(name);
                    if (value.isArray() && value.size() > 0 && random.nextBoolean()) {
                        ((ArrayNode) value).set(random.nextInt(value.size()), randomValue(random, 0));
                    } else {
                        target.set(name, randomValue(random, 0));
                    }
                }
                return copy;
            }
        }
    }

    private static void collectObjects(JsonNode node, List<ObjectNode> into) {
        if (node instanceof ObjectNode object) {
            into.add(object);
            object.elements().forEachRemaining(child -> collectObjects(child, into));
        }
    }

    static JsonNode randomValue(Random random, int depth) {
        JsonNodeFactory f = JsonNodeFactory.instance;
        Supplier<JsonNode>[] kinds = new Supplier[] {
            () -> f.nullNode(),
            () -> f.booleanNode(random.nextBoolean()),
            () -> f.numberNode(random.nextInt(2001) - 1000),
            () -> f.numberNode(random.nextDouble() * 10 - 5),
            () -> f.numberNode(new java.math.BigInteger(80, random)),
            () -> f.numberNode(Long.MAX_VALUE),
            () -> f.textNode(""),
            () -> f.textNode("   "),
            () -> f.textNode("right"),
            () -> f.textNode("s3://no-such-bucket/x"),
            () -> f.textNode("\u0000\ud83d\ude00" + "z".repeat(random.nextInt(300))),
            () -> depth > 3 ? f.arrayNode() : f.arrayNode().add(randomValue(random, depth + 1)).add(randomValue(random, depth + 1)),
            () -> depth > 3 ? f.objectNode() : f.objectNode().set("k", randomValue(random, depth + 1)),
        };
        return kinds[random.nextInt(kinds.length)].get();
    }
}
