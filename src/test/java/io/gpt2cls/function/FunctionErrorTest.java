package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Supplier;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.dataset.DatasetException;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.StorageUnavailableException;

/** A failure's type decides what its caller sees: the HTTP status, whether an event is retried. */
class FunctionErrorTest {

    @Test
    void refusedRequestsAre4xxAndFaults5xx() {
        Map<String, Integer> statuses = new TreeMap<>();
        for (String type : new String[] {FunctionError.INVALID_REQUEST, FunctionError.NOT_FOUND, FunctionError.INVALID_INPUT,
                FunctionError.UNAVAILABLE, FunctionError.INTERNAL}) {
            statuses.put(type, new FunctionError(type, "m", null).httpStatus());
        }
        assertEquals(Map.of("invalid_request", 400, "not_found", 404, "invalid_input", 422, "unavailable", 503, "internal", 500), statuses);
    }

    @Test
    void eachCauseHasItsType() {
        assertEquals(FunctionError.INVALID_REQUEST, FunctionError.typeOf(new InvalidRequestException("text", "field 'text' is empty")));
        assertEquals(FunctionError.NOT_FOUND, FunctionError.typeOf(new ArtifactNotFoundException("no model at s3://b/m")));
        assertEquals(FunctionError.INVALID_INPUT, FunctionError.typeOf(new DatasetException("column 'text' not found")));
        assertEquals(FunctionError.UNAVAILABLE, FunctionError.typeOf(new StorageUnavailableException("S3 kept failing", null)));
        assertEquals(FunctionError.INTERNAL, FunctionError.typeOf(new IllegalStateException("a bug")));
    }

    @Test
    void theAnswerHasNoFieldsBeyondTypeMessageAndField() throws Exception {
        assertEquals("{\"type\":\"unavailable\",\"message\":\"m\"}",
                new ObjectMapper().writeValueAsString(new FunctionError(FunctionError.UNAVAILABLE, "m", null)));
    }

    /** prepare on an upload's event, with a service that fails as given. */
    private static PrepareResponse prepareOnUpload(Supplier<RuntimeException> failure) throws Exception {
        PrepareFunction function = new PrepareFunction();
        function.service = new PrepareService() {
            @Override
            public PrepareResponse prepare(PrepareRequest request) {
                throw failure.get();
            }
        };
        return function.prepare(RequestParser.parse(Files.readString(Path.of("events/prepare-eventbridge.json")), PrepareRequest.class));
    }

    @Test
    void anUploadsEventRaisesFaultsSoLambdaRetriesThemAndAnswersRefusals() throws Exception {
        PrepareFunction.EventFailedException unavailable = assertThrows(PrepareFunction.EventFailedException.class,
                () -> prepareOnUpload(() -> new StorageUnavailableException("S3 kept failing (HTTP 503) after 5 attempts", null)));
        assertEquals("unavailable: S3 kept failing (HTTP 503) after 5 attempts", unavailable.getMessage());
        PrepareFunction.EventFailedException internal = assertThrows(PrepareFunction.EventFailedException.class,
                () -> prepareOnUpload(() -> new IllegalStateException("a bug")));
        assertTrue(internal.getMessage().startsWith("internal: internal error (reference "), internal.getMessage());
        PrepareResponse refused = prepareOnUpload(() -> new DatasetException("column 'text' not found in train.csv"));
        assertEquals(FunctionError.INVALID_INPUT, refused.error.type());
        assertNull(refused.error.field());
    }

    @Test
    void aDirectCallerGetsTheAnswerEvenForAFault() {
        PrepareFunction function = new PrepareFunction();
        function.service = new PrepareService() {
            @Override
            public PrepareResponse prepare(PrepareRequest request) {
                throw new StorageUnavailableException("S3 kept failing", null);
            }
        };
        assertEquals(FunctionError.UNAVAILABLE, function.prepare(RequestParser.parse("{\"train\": \"s3://b/raw/x/train.jsonl\"}",
                PrepareRequest.class)).error.type());
    }
}
