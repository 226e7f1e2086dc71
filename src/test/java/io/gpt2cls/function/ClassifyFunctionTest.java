package io.gpt2cls.function;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.oneOf;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.restassured.RestAssured.given;

import java.util.Map;
import java.util.Random;

import jakarta.inject.Inject;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;

/** Posts Lambda events to the mock event server; the model is a tiny GPT-2 trained on the test messages. */
@QuarkusTest
@TestProfile(FunctionProfiles.Classify.class)
class ClassifyFunctionTest {

    @BeforeAll
    static void trainTheServedModel() {
        TestModels.trainedModel();
    }

    @Test
    void classifiesOneTextWithAllLabelProbabilities() {
        Map<String, Float> probabilities = given().contentType("application/json").accept("application/json")
                .body("{\"text\": \"Subject: cheap meds, click now to win\"}")
                .post()
                .then().statusCode(200)
                .body("model", containsString("model"))
                .body("results", hasSize(1))
                .body("results[0].label", oneOf("ham", "spam"))
                .body("results[0].probabilities", hasKey("ham"))
                .body("results[0].probabilities", hasKey("spam"))
                .body("results[0].truncated", is(false))
                .extract().path("results[0].probabilities");
        assertEquals(1.0, probabilities.values().stream().mapToDouble(Float::doubleValue).sum(), 1e-5);
    }

    @Test
    void classifiesAListInRequestOrderAndKeepsServingAfterErrors() {
        given().contentType("application/json").body("{\"texts\": [\"\"]}").post()
                .then().statusCode(200).body("error.message", containsString("text 0 is empty"));
        given().contentType("application/json").body("{\"texts\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}").post()
                .then().statusCode(200).body("error.message", containsString("the limit is 4"));
        given().contentType("application/json").body("{}").post()
                .then().statusCode(200).body("error.message", containsString("no text to classify"));
        given().contentType("application/json")
                .body("{\"texts\": [\"short\", \"a much longer message about the weekly meeting notes and agenda\"]}")
                .post()
                .then().statusCode(200)
                .body("results", hasSize(2))
                .body("results[0].tokens", equalTo(1))
                .body("results[1].tokens", greaterThan(10));
    }

    @Test
    void unknownRequestFieldIsAnError() {
        given().contentType("application/json").body("{\"txt\": \"hello\"}").post()
                .then().statusCode(200).body("error.message", containsString("unknown field 'txt'; the fields of the request are: model, text, texts, top_k"));
    }

    @Test
    void malformedBodiesGetAnErrorObjectNamingTheProblemAndServingGoesOn() {
        String[][] cases = {
            {"{\"texts\": [1]}", "texts[0]", "field 'texts[0]' must be a text (a JSON string), got 1"},
            {"{\"text\": 5}", "text", "field 'text' must be a text (a JSON string), got 5"},
            {"{\"text\": \"hi\"} xyz", null,
                "the request has more content after its JSON object (from line 1, column 15); send exactly one JSON object"},
            {"{\"text\": \"a\", \"text\": \"b\"}", "text", "field 'text' appears more than once at line 1, column 21; send each field once"},
            {"null", null, "the request is null; send a JSON object with the function's fields"},
            {"[\"a\"]", null, "the request must be a JSON object with named fields, got a list"},
            {"{\"text\": \"   \"}", "texts[0]", "text 0 is empty; every text needs at least one non-space character"},
        };
        for (String[] c : cases) {
            var answer = given().contentType("application/json").body(c[0]).post()
                    .then().statusCode(200)
                    .body("error.type", equalTo("invalid_request"))
                    .body("error.message", equalTo(c[2]))
                    .body("results", org.hamcrest.Matchers.nullValue());
            if (c[1] != null) {
                answer.body("error.field", equalTo(c[1]));
            }
        }
        given().contentType("application/json").body("{\"text\": \"Subject: still serving\"}").post()
                .then().statusCode(200).body("results", hasSize(1));
    }

    @Inject
    ClassifyService service;

    @Test
    void theModelIsLoadedOnceAndServesEveryLaterInvocation() {
        for (int i = 0; i < 20; i++) {
            given().contentType("application/json").body("{\"text\": \"invocation " + i + "\"}").post()
                    .then().statusCode(200).body("results", hasSize(1));
        }
        assertEquals(1, service.loads());
    }

    @Test
    void everyBadInputGetsAClearErrorAndTheSameAnswerFollows() {
        String normal = "{\"text\": \"Subject: meeting notes for Tuesday\"}";
        Map<String, Float> before = probabilities(normal);
        String overLimit = "\u00e9".repeat(600); // 600 characters, 1,200 bytes in UTF-8
        String[][] cases = {
            {"{\"text\": \"\"}", "texts[0]", "text 0 is empty; every text needs at least one non-space character"},
            {"{\"texts\": [\"ok\", \" \\t\\n \"]}", "texts[1]", "text 1 is empty; every text needs at least one non-space character"},
            {"{\"texts\": [\"ok\", {\"text\": \"nested\"}]}", "texts[1]", "field 'texts[1]' must be a text (a JSON string), got an object"},
            {"{\"texts\": [\"ok\", null]}", "texts[1]", "field 'texts[1]' must be a text (a JSON string), got null"},
            {"{\"text\": true}", "text", "field 'text' must be a text (a JSON string), got true"},
            {"{\"texts\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}", "texts",
                "5 texts in one request; the limit is 4 (gpt2cls.classify.max-texts): split the request"},
            {"{\"text\": \"" + overLimit + "\"}", "texts[0]",
                "text 0 is 1,200 bytes in UTF-8; the limit is 1,000 (gpt2cls.classify.max-bytes-per-text): send the part the model should read"},
            {"{\"text\": \"a\", \"top_k\": 0}", "top_k", "field 'top_k' must be at least 1, got 0"},
            {"{\"text\": \"a\", \"top_k\": 1.5}", "top_k", "field 'top_k' must be a whole number, got 1.5"},
            {"{\"text\": \"unclosed\"", null, "the request ends in the middle of a JSON value at line 1, column 20 (an unclosed object, list or string)"},
            {"[{\"text\": \"a\"}]", null, "the request must be a JSON object with named fields, got a list"},
            {"null", null, "the request is null; send a JSON object with the function's fields"},
        };
        for (String[] c : cases) {
            var answer = given().contentType("application/json").body(c[0]).post()
                    .then().statusCode(200)
                    .body("error.type", equalTo("invalid_request"))
                    .body("error.message", equalTo(c[2]))
                    .body("results", org.hamcrest.Matchers.nullValue());
            if (c[1] != null) {
                answer.body("error.field", equalTo(c[1]));
            }
        }
        given().contentType("application/json").body("{\"text\": \"" + "a".repeat(1000) + "\"}").post()
                .then().statusCode(200).body("results", hasSize(1)); // at the limit: accepted
        assertEquals(before, probabilities(normal));
    }

    private static Map<String, Float> probabilities(String request) {
        return given().contentType("application/json").body(request).post()
                .then().statusCode(200).extract().path("results[0].probabilities");
    }

    @Test
    void aFunctionUrlGetsTheAnswerAsItsBodyWithAStatusFromTheErrorType() throws Exception {
        String ok = given().contentType("application/json").body(functionUrlEvent("{\"text\": \"Subject: meeting notes\"}"))
                .post().then().statusCode(200).extract().asString();
        JsonNode answered = JSON.readTree(ok);
        assertEquals(200, answered.get("statusCode").asInt());
        assertTrue(JSON.readTree(answered.get("body").asText()).has("results"), ok);
        String refused = given().contentType("application/json").body(functionUrlEvent("{\"txt\": \"typo\"}"))
                .post().then().statusCode(200).extract().asString();
        JsonNode http = JSON.readTree(refused);
        assertEquals(400, http.get("statusCode").asInt(), refused);
        // the body is what a direct invocation answers
        String direct = given().contentType("application/json").body("{\"txt\": \"typo\"}").post().then().statusCode(200).extract().asString();
        assertEquals(JSON.readTree(direct), JSON.readTree(http.get("body").asText()));
        assertEquals(FunctionError.INVALID_REQUEST, JSON.readTree(direct).at("/error/type").asText());
    }

    /** Payloads sent as Lambda invocations and, as many again, inside Function URL events. */
    static final int FUZZED_PAYLOADS = 600;
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void thousandsOfMalformedPayloadsGetErrorObjectsAndTheModelAnswersAsBefore() throws Exception {
        String normal = "{\"text\": \"Subject: meeting notes for Tuesday\"}";
        Map<String, Float> before = probabilities(normal);
        String valid = "{\"text\": \"Subject: cheap meds\", \"texts\": [\"hello\", \"Re: build failure\"], \"top_k\": 1}";
        JsonNode base = JSON.readTree(valid);
        Random random = new Random(21);
        int answered = 0;
        for (int i = 0; i < 2 * FUZZED_PAYLOADS; i++) {
            String payload = i % 2 == 0 ? RequestFuzzTest.mutateText(valid, random)
                    : JSON.writeValueAsString(RequestFuzzTest.mutateTree(base, random));
            boolean viaFunctionUrl = i >= FUZZED_PAYLOADS;
            Response response = given().contentType("application/json").body(viaFunctionUrl ? functionUrlEvent(payload) : payload).post();
            if (response.statusCode() != 200) {
                // A payload that is not JSON at all: AWS Lambda refuses such an invocation before any function runs.
                assertFalse(viaFunctionUrl, "a Function URL body is always answered: " + payload);
                assertFalse(isJson(payload), "the runtime refused JSON: " + payload);
                continue;
            }
            answered++;
            String answer = response.asString();
            if (viaFunctionUrl) {
                // an HTTP response whose status is the answer's: 200, or 4xx for a refused request
                JsonNode http = JSON.readTree(answer);
                answer = http.path("body").asText();
                JsonNode error = JSON.readTree(answer).path("error");
                assertEquals(error.isMissingNode() ? 200 : new FunctionError(error.path("type").asText(), "", null).httpStatus(),
                        http.path("statusCode").asInt(), answer);
                assertEquals("application/json", http.at("/headers/content-type").asText());
            }
            RequestFuzzTest.assertClean(answer, payload);
            JsonNode tree = JSON.readTree(answer);
            assertTrue(tree.has("results") != tree.has("error"), "results or an error: " + answer);
            assertNotEquals(FunctionError.INTERNAL, tree.path("error").path("type").asText(), answer);
        }
        assertTrue(answered > FUZZED_PAYLOADS * 3 / 2, "most payloads reach the function: " + answered);
        assertEquals(before, probabilities(normal));
        assertEquals(1, service.loads());
    }

    private static boolean isJson(String payload) {
        try {
            return !JSON.readTree(payload).isMissingNode(); // the empty payload reads as missing
        } catch (JsonProcessingException e) {
            return false;
        }
    }

    /** A Lambda Function URL event (payload format 2.0) carrying {@code body}. */
    private static String functionUrlEvent(String body) throws JsonProcessingException {
        ObjectNode event = JSON.createObjectNode();
        event.put("version", "2.0");
        event.putObject("requestContext").putObject("http").put("method", "POST");
        event.put("body", body);
        event.put("isBase64Encoded", false);
        return JSON.writeValueAsString(event);
    }
}
