package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.StorageException;
import io.gpt2cls.training.ResumeFrom;

/** A finetune.json beside the training data travels with the prepared dataset as its training recipe. */
class FinetuneRecipeTest {

    @TempDir
    Path work;

    private PrepareService prepare() {
        PrepareService prepare = new PrepareService();
        prepare.store = new RoutingStore(new LocalStore(), () -> {
            throw new StorageException("no S3 here");
        }, List.of());
        prepare.baseModels = BaseModels.of(prepare.store, new TestConfig());
        return prepare;
    }

    private PrepareRequest request(Path raw) throws Exception {
        PrepareRequest request = new PrepareRequest();
        request.train = raw.resolve("train.jsonl").toString();
        request.output = work.resolve("prepared/spam").toString();
        request.tokenizer = TestModels.tokenizer().toString();
        request.maxLength = 32;
        return request;
    }

    @Test
    void aRecipeBesideTheDataIsCheckedAndPublishedWithTheDataset() throws Exception {
        Path raw = Files.createDirectories(work.resolve("raw/spam"));
        Files.copy(TestModels.MESSAGES, raw.resolve("train.jsonl"));
        String recipe = "{\"preset\": \"tiny\", \"training\": {\"learning_rate\": 0.001, \"max_steps\": 3}}";
        Files.writeString(raw.resolve("finetune.json"), recipe);
        PrepareResponse response = prepare().prepare(request(raw));
        assertEquals(raw.resolve("finetune.json").toString(), response.finetuneRecipe);
        assertEquals(recipe, Files.readString(work.resolve("prepared/spam/finetune.json")));
    }

    @Test
    void aBrokenRecipeStopsPrepareBeforeAnythingIsPublished() throws Exception {
        Path raw = Files.createDirectories(work.resolve("raw/spam"));
        Files.copy(TestModels.MESSAGES, raw.resolve("train.jsonl"));
        Files.writeString(raw.resolve("finetune.json"), "{\"training\": {\"learnin_rate\": 0.001}}");
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> prepare().prepare(request(raw)));
        assertTrue(e.getMessage().startsWith(raw.resolve("finetune.json") + ": unknown field 'training.learnin_rate'"), e.getMessage());
        assertTrue(Files.notExists(work.resolve("prepared/spam/manifest.json")));
    }

    @Test
    void finetuneCompletesARequestFromTheDatasetsRecipe() throws Exception {
        Path raw = Files.createDirectories(work.resolve("raw/spam"));
        Files.copy(TestModels.MESSAGES, raw.resolve("train.jsonl"));
        Files.writeString(raw.resolve("finetune.json"), "{\"preset\": \"tiny\", \"training\": {\"learning_rate\": 0.0007,"
                + " \"max_steps\": 5, \"per_device_train_batch_size\": 4, \"eval_strategy\": \"no\", \"save_strategy\": \"no\"}}");
        PrepareService prepare = prepare();
        prepare.prepare(request(raw));
        FinetuneService finetune = new FinetuneService();
        finetune.store = prepare.store;
        finetune.config = new TestConfig();
        finetune.baseModels = BaseModels.of(finetune.store, finetune.config);

        FinetuneResponse response = finetune.finetune(RequestParser.parse("{\"dataset\": \"" + work.resolve("prepared/spam")
                + "\", \"training\": {\"max_steps\": 2}}", FinetuneRequest.class));

        assertEquals(work.resolve("prepared/spam/finetune.json").toString(), response.finetuneRecipe);
        assertEquals(2, response.globalStep, "the request's max_steps wins over the recipe's");
        JsonNode args = new ObjectMapper().readTree(work.resolve("models/spam/training_args.json").toFile());
        assertEquals(0.0007, args.get("learning_rate").doubleValue(), "learning_rate comes from the recipe");
        assertEquals(4, args.get("per_device_train_batch_size").intValue());
    }

    @Test
    void fieldsTheRequestGivesWinOverTheRecipe() {
        FinetuneRequest request = RequestParser.parse("{\"dataset\": \"d\", \"training\": {\"max_steps\": 7}}", FinetuneRequest.class);
        FinetuneRequest merged = FinetuneRecipe.apply((com.fasterxml.jackson.databind.node.ObjectNode) RequestParserTest.LAMBDA.valueToTree(
                java.util.Map.of("base_model", "s3://b/base-models/gpt2", "training", java.util.Map.of("max_steps", 100, "learning_rate", 0.5))),
                request);
        assertEquals("d", merged.dataset);
        assertEquals("s3://b/base-models/gpt2", merged.baseModel);
        assertEquals(7, merged.training.max_steps);
        assertEquals(0.5, merged.training.learning_rate);
    }

    @Test
    void aRequestBuiltInCodeKeepsEveryFieldItHas() {
        FinetuneRequest request = new FinetuneRequest();
        request.dataset = "d";
        request.training.max_steps = 9;
        request.resumeFromCheckpoint = ResumeFrom.NEVER;
        FinetuneRequest merged = FinetuneRecipe.apply((com.fasterxml.jackson.databind.node.ObjectNode) RequestParserTest.LAMBDA.valueToTree(
                java.util.Map.of("base_model", "s3://b/base-models/gpt2", "training", java.util.Map.of("max_steps", 100, "learning_rate", 0.5))),
                request);
        assertEquals("s3://b/base-models/gpt2", merged.baseModel, "a field the request does not have comes from the recipe");
        assertEquals(9, merged.training.max_steps);
        assertEquals(new FinetuneRequest().training.learning_rate, merged.training.learning_rate);
        assertEquals(ResumeFrom.NEVER, merged.resumeFromCheckpoint);
    }
}
