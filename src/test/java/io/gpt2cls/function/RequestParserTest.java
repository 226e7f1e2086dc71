package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.storage.Location;
import io.gpt2cls.training.ResumeFrom;

/**
 * Every way a request body can be wrong gets one exact message in the request's own terms; the
 * Lambda path (the runtime's mapper with {@link RequestModule}) reports the same as the CLI path.
 */
class RequestParserTest {

    /** What the Lambda runtime reads requests with: the application's mapper, customised. */
    static final ObjectMapper LAMBDA = lambdaMapper();

    static ObjectMapper lambdaMapper() {
        ObjectMapper mapper = new ObjectMapper();
        new RequestModule().customize(mapper);
        return mapper;
    }

    private static String problem(String json, Class<? extends StrictRequest> type) {
        InvalidRequestException cli = assertThrows(InvalidRequestException.class, () -> RequestParser.parse(json, type));
        StrictRequest viaLambda;
        try {
            viaLambda = LAMBDA.readValue(json, type);
        } catch (Exception e) {
            throw new AssertionError("the Lambda path must not throw for " + json, e);
        }
        InvalidRequestException lambda = assertThrows(InvalidRequestException.class, () -> StrictRequest.requireValid(viaLambda));
        assertEquals(cli.getMessage(), lambda.getMessage(), "both paths say the same for " + json);
        return cli.getMessage();
    }

    @Test
    void aNullOrNonObjectBodyIsRefused() {
        assertEquals("the request is null; send a JSON object with the function's fields", problem("null", PrepareRequest.class));
        assertEquals("the request must be a JSON object with named fields, got a list", problem("[{\"text\": \"hi\"}]", ClassifyRequest.class));
        assertEquals("the request must be a JSON object with named fields, got the text \"hello\"", problem("\"hello\"", ClassifyRequest.class));
        assertEquals("the request must be a JSON object with named fields, got 42", problem("42", FinetuneRequest.class));
        assertThrows(InvalidRequestException.class, () -> StrictRequest.requireValid(null));
    }

    @Test
    void numbersWhereWholeNumbersAreMeantNameTheField() {
        assertEquals("field 'max_length' must be a whole number, got 1.5", problem("{\"max_length\": 1.5}", PrepareRequest.class));
        assertEquals("field 'seed' must be a whole number, got the text \"7\"", problem("{\"seed\": \"7\"}", PrepareRequest.class));
        assertEquals("field 'training.per_device_train_batch_size' must be a whole number, got 8.0",
                problem("{\"training\": {\"per_device_train_batch_size\": 8.0}}", FinetuneRequest.class));
        assertEquals("field 'training.learning_rate' must be a number, got true",
                problem("{\"training\": {\"learning_rate\": true}}", FinetuneRequest.class));
        assertEquals("field 'training.load_best_model_at_end' must be true or false, got 1",
                problem("{\"training\": {\"load_best_model_at_end\": 1}}", FinetuneRequest.class));
    }

    @Test
    void textsMustBeTexts() {
        assertEquals("field 'texts[0]' must be a text (a JSON string), got 1", problem("{\"texts\": [1]}", ClassifyRequest.class));
        assertEquals("field 'text' must be a text (a JSON string), got 5", problem("{\"text\": 5}", ClassifyRequest.class));
        assertEquals("field 'text' must be a text (a JSON string), got false", problem("{\"text\": false}", ClassifyRequest.class));
        assertEquals("field 'texts[1]' must be a text (a JSON string), got null", problem("{\"texts\": [\"a\", null]}", ClassifyRequest.class));
        assertEquals("field 'texts' must be a list, got the text \"one\"", problem("{\"texts\": \"one\"}", ClassifyRequest.class));
        assertEquals("field 'text' must be a text (a JSON string), got an object", problem("{\"text\": {\"a\": 1}}", ClassifyRequest.class));
    }

    @Test
    void trailingContentDuplicateKeysAndUnknownFieldsAreRefused() {
        assertEquals("the request has more content after its JSON object (from line 1, column 15); send exactly one JSON object",
                problem("{\"text\": \"hi\"} xyz", ClassifyRequest.class));
        assertEquals("the request has more content after its JSON object (from line 1, column 15); send exactly one JSON object",
                problem("{\"text\": \"hi\"}{\"text\": \"ho\"}", ClassifyRequest.class));
        assertEquals("field 'text' appears more than once at line 1, column 21; send each field once",
                problem("{\"text\": \"a\", \"text\": \"b\"}", ClassifyRequest.class));
        assertEquals("unknown field 'txt'; the fields of the request are: model, text, texts, top_k", problem("{\"txt\": \"hello\"}", ClassifyRequest.class));
        assertEquals("unknown field 'training.learnin_rate'; the fields of 'training' are: adam_beta1, adam_beta2, adam_epsilon,"
                        + " early_stopping_patience, early_stopping_threshold, eval_steps, eval_strategy, fp16, freeze_embeddings,"
                        + " gradient_accumulation_steps, group_by_length, ignore_data_skip, learning_rate, load_best_model_at_end,"
                        + " logging_steps, max_grad_norm, max_steps, metric_for_best_model, num_train_epochs,"
                        + " per_device_eval_batch_size, per_device_train_batch_size, save_steps, save_strategy, save_total_limit,"
                        + " seed, warmup_ratio, warmup_steps, weight_decay",
                problem("{\"training\": {\"learnin_rate\": 0.1}}", FinetuneRequest.class));
    }

    @Test
    void brokenJsonAndOversizedValuesGetAPlaceAndALimit() {
        assertEquals("the request ends in the middle of a JSON value at line 1, column 9 (an unclosed object, list or string)",
                problem("{\"text\":", ClassifyRequest.class));
        assertEquals("the request is not valid JSON at line 1, column 14", problem("{\"text\": \"a\" \"b\"}", ClassifyRequest.class));
        String deep = "{\"text\": " + "[".repeat(100) + "]".repeat(100) + "}";
        assertEquals("the request nests objects or lists more than 64 levels deep at line 1, column 74", problem(deep, ClassifyRequest.class));
        String digits = "{\"max_length\": " + "9".repeat(1001) + "}";
        assertEquals("the request holds a number longer than 100 digits at line 1, column 1017", problem(digits, PrepareRequest.class));
    }

    @Test
    void nullMeansNotGivenExceptInsideLists() {
        FinetuneRequest request = RequestParser.parse("{\"training\": null, \"base_model\": null}", FinetuneRequest.class);
        assertEquals(2e-5, request.training.learning_rate, "a null object keeps its defaults");
        assertNull(request.baseModel);
        assertEquals(512, RequestParser.parse("{\"max_length\": null}", PrepareRequest.class).maxLength);
    }

    @Test
    void labelsMayBeNamesOrWholeNumbersAsInTheData() {
        assertEquals(List.of("0", "1", "spam"), RequestParser.parse("{\"labels\": [0, 1, \"spam\"]}", PrepareRequest.class).labels);
        assertEquals("field 'labels[0]' must be a text (a JSON string), got 0.5", problem("{\"labels\": [0.5]}", PrepareRequest.class));
    }

    @Test
    void resumeFromCheckpointIsTrueLatestFalseOrALocation() {
        assertEquals(ResumeFrom.AUTO, RequestParser.parse("{}", FinetuneRequest.class).resumeFromCheckpoint);
        assertEquals(ResumeFrom.AUTO, RequestParser.parse("{\"resume_from_checkpoint\": null}", FinetuneRequest.class).resumeFromCheckpoint);
        assertEquals(ResumeFrom.Mode.LATEST,
                RequestParser.parse("{\"resume_from_checkpoint\": true}", FinetuneRequest.class).resumeFromCheckpoint.mode());
        assertEquals(ResumeFrom.Mode.LATEST,
                RequestParser.parse("{\"resume_from_checkpoint\": \"latest\"}", FinetuneRequest.class).resumeFromCheckpoint.mode());
        assertEquals(ResumeFrom.NEVER, RequestParser.parse("{\"resume_from_checkpoint\": false}", FinetuneRequest.class).resumeFromCheckpoint);
        ResumeFrom at = RequestParser.parse("{\"resume_from_checkpoint\": \"s3://bucket/models/spam/checkpoint-40\"}",
                FinetuneRequest.class).resumeFromCheckpoint;
        assertEquals(new ResumeFrom(ResumeFrom.Mode.AT, Location.parse("s3://bucket/models/spam/checkpoint-40")), at);
        assertEquals("field 'resume_from_checkpoint': must be true, \"latest\" (the newest checkpoint under the output), false"
                + " (start over) or the location of a checkpoint, got 40", problem("{\"resume_from_checkpoint\": 40}", FinetuneRequest.class));
    }
}
