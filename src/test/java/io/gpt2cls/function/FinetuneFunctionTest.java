package io.gpt2cls.function;

import static org.hamcrest.Matchers.allOf;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.greaterThanOrEqualTo;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.lessThanOrEqualTo;
import static org.hamcrest.Matchers.notNullValue;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.restassured.RestAssured.given;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import io.gpt2cls.tokenizer.HubStyleTokenizers;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.TestProfile;

@QuarkusTest
@TestProfile(FunctionProfiles.Finetune.class)
class FinetuneFunctionTest {

    @Test
    void trainsATinyModelAndWritesAHuggingFaceCheckpoint() throws Exception {
        Path out = Files.createTempDirectory("finetune-fn-").resolve("model");
        given().contentType("application/json")
                .body("{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"preset\": \"tiny\", \"tokenizer\": \""
                        + TestModels.tokenizer() + "\", \"output\": \"" + out + "\","
                        + " \"training\": {\"max_steps\": 3, \"learning_rate\": 0.001, \"logging_steps\": 1}}")
                .post()
                .then().statusCode(200)
                .body("global_step", equalTo(3))
                .body("eval.accuracy", allOf(greaterThanOrEqualTo(0f), lessThanOrEqualTo(1f)))
                .body("eval.labels[1]", equalTo("spam"))
                .body("best_model_checkpoint", notNullValue());
        for (String file : new String[] {"config.json", "model.safetensors", "tokenizer.json", "trainer_state.json", "checkpoint-3/model.safetensors"}) {
            assertTrue(Files.exists(out.resolve(file)), file);
        }
    }

    @Test
    void theSameRequestAgainIsAnsweredFromTheFinishedRunWithoutTraining() throws Exception {
        Path out = Files.createTempDirectory("finetune-again-").resolve("model");
        String request = "{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"tokenizer\": \"" + TestModels.tokenizer()
                + "\", \"output\": \"" + out + "\", \"training\": {\"max_steps\": 2, \"save_strategy\": \"steps\","
                + " \"save_steps\": 1, \"eval_strategy\": \"steps\", \"eval_steps\": 1, \"load_best_model_at_end\": true}}";
        float accuracy = given().contentType("application/json").body(request).post()
                .then().statusCode(200)
                .body("status", equalTo("completed"))
                .body("checkpoints", hasSize(2))
                .body("report", equalTo(out + "/report.html"))
                .extract().path("eval.accuracy");
        long trained = Files.getLastModifiedTime(out.resolve("model.safetensors")).toMillis();
        given().contentType("application/json").body(request).post()
                .then().statusCode(200)
                .body("status", equalTo("already_completed"))
                .body("global_step", equalTo(2))
                .body("eval.accuracy", equalTo(accuracy))
                .body("eval.confusion_matrix", notNullValue());
        assertTrue(trained == Files.getLastModifiedTime(out.resolve("model.safetensors")).toMillis(), "nothing was written again");
        assertTrue(Files.readString(out.resolve("report.html")).contains("new Chart("), "the report draws its charts");
    }

    @Test
    void refusesADatasetTokenizedWithAnotherTokenizer() throws Exception {
        Path other = Files.createTempDirectory("other-tok-");
        HubStyleTokenizers.gpt2WithAddedToken(other);
        given().contentType("application/json")
                .body("{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"tokenizer\": \"" + other.resolve("tokenizer.json")
                        + "\", \"output\": \"" + other.resolve("model") + "\", \"training\": {\"max_steps\": 1}}")
                .post()
                .then().statusCode(200)
                .body("error.type", equalTo("invalid_input"))
                .body("error.message", containsString("different tokenizer"))
                .body("error.message", containsString("they differ in added_tokens"));
    }

    @Test
    void aTokenizerInOtherBytesThatTokenizesAlikeIsTheSameTokenizer() throws Exception {
        Path other = Files.createTempDirectory("hub-tok-");
        HubStyleTokenizers.gpt2(other);
        Path out = other.resolve("model");
        given().contentType("application/json")
                .body("{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"tokenizer\": \"" + other.resolve("tokenizer.json")
                        + "\", \"output\": \"" + out + "\", \"training\": {\"max_steps\": 1, \"eval_strategy\": \"no\"}}")
                .post()
                .then().statusCode(200)
                .body("status", equalTo("completed"));
    }

    @Test
    void misspelledTrainingArgumentIsAnError() throws Exception {
        given().contentType("application/json")
                .body("{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"output\": \"/tmp/unused\","
                        + " \"training\": {\"learnin_rate\": 0.1}}")
                .post()
                .then().statusCode(200)
                .body("error.message", containsString("unknown field 'training.learnin_rate'; the fields of 'training' are: adam_beta1"));
    }

    @Test
    void invalidTrainingArgumentNamesTheField() throws Exception {
        given().contentType("application/json")
                .body("{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"tokenizer\": \"" + TestModels.tokenizer()
                        + "\", \"output\": \"/tmp/unused\", \"training\": {\"learning_rate\": -1}}")
                .post()
                .then().statusCode(200)
                .body("error.message", containsString("learning_rate"));
    }

    @Test
    void anExistingFileAsOutputIsExplained() throws Exception {
        Path file = Files.createTempFile("not-a-dir-", ".txt");
        given().contentType("application/json")
                .body("{\"dataset\": \"" + TestModels.preparedDataset() + "\", \"tokenizer\": \"" + TestModels.tokenizer()
                        + "\", \"output\": \"" + file + "\", \"training\": null}")
                .post()
                .then().statusCode(200)
                .body("error.type", equalTo("invalid_input"))
                .body("error.message", equalTo("'" + file + "' is a file; name a directory for the output"));
    }
}
