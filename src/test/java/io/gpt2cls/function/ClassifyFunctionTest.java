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
                .then().statusCode(500).body("errorMessage", containsString("text 0 is empty"));
        given().contentType("application/json").body("{\"texts\": [\"a\", \"b\", \"c\", \"d\", \"e\"]}").post()
                .then().statusCode(500).body("errorMessage", containsString("the limit is 4"));
        given().contentType("application/json").body("{}").post()
                .then().statusCode(500).body("errorMessage", containsString("no text to classify"));
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
                .then().statusCode(500).body("errorMessage", containsString("unknown request field 'txt'; the fields are: text, texts"));
    }
}
