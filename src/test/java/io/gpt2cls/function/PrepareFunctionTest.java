package io.gpt2cls.function;

import static org.hamcrest.Matchers.contains;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import static io.restassured.RestAssured.given;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

@QuarkusTest
@TestProfile(FunctionProfiles.Prepare.class)
class PrepareFunctionTest {

    @Test
    void preparesTheShippedMessagesIntoShardsAndManifest() throws Exception {
        Path out = Files.createTempDirectory("prepare-fn-").resolve("dataset");
        given().contentType("application/json")
                .body("{\"train\": \"" + TestModels.MESSAGES + "\", \"output\": \"" + out + "\", \"max_length\": 64, \"test_fraction\": 0.25}")
                .post()
                .then().statusCode(200)
                .body("rows_read", equalTo(80))
                .body("accepted", equalTo(80))
                .body("rejected", equalTo(0))
                .body("labels", contains("ham", "spam"))
                .body("splits.train.rows", equalTo(60))
                .body("splits.test.per_class.spam", equalTo(10));
        org.junit.jupiter.api.Assertions.assertTrue(Files.exists(out.resolve("manifest.json")));
    }

    @Test
    void missingColumnIsAnErrorThatListsTheColumns() throws Exception {
        Path out = Files.createTempDirectory("prepare-fn-").resolve("dataset");
        given().contentType("application/json")
                .body("{\"train\": \"" + TestModels.MESSAGES + "\", \"output\": \"" + out + "\", \"text_column\": \"body\"}")
                .post()
                .then().statusCode(200)
                .body("error.message", containsString("body"))
                .body("error.message", containsString("text"));
        org.junit.jupiter.api.Assertions.assertFalse(Files.exists(out));
    }

    @Test
    void missingTrainFieldNamesTheField() {
        given().contentType("application/json").body("{\"output\": \"/tmp/x\"}").post()
                .then().statusCode(200).body("error.message", containsString("field 'train' is required"));
    }

    @Test
    void aDecimalWhereAWholeNumberIsMeantNamesTheField() {
        given().contentType("application/json")
                .body("{\"train\": \"" + TestModels.MESSAGES + "\", \"output\": \"/tmp/unused\", \"max_length\": 1.5}")
                .post()
                .then().statusCode(200)
                .body("error.type", equalTo("invalid_request"))
                .body("error.field", equalTo("max_length"))
                .body("error.message", equalTo("field 'max_length' must be a whole number, got 1.5"));
    }
}
