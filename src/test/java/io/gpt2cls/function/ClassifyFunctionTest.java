package io.gpt2cls.function;

import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThan;
import static org.hamcrest.Matchers.hasKey;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.is;
import static org.hamcrest.Matchers.oneOf;
import static org.junit.jupiter.api.Assertions.assertEquals;

import static io.restassured.RestAssured.given;

import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

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
}
