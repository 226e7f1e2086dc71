package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.ObjectMapper;

/** The two shapes an upload reaches prepare in, read from the payloads in events/ that sam local invoke uses. */
class PrepareTriggerEventsTest {

    @Test
    void anS3NotificationNamesTheUploadedObjectWithItsKeyDecoded() throws Exception {
        PrepareRequest request = RequestParser.parse(Files.readString(Path.of("events/prepare-s3-put.json")), PrepareRequest.class);
        assertEquals(List.of(new PrepareTrigger.ObjectCreated("gpt2cls-data-123456789012", "raw/spam/train.jsonl")), request.triggeredBy);
        String spaced = Files.readString(Path.of("events/prepare-s3-put.json")).replace("raw/spam/train.jsonl", "raw/my+data/train%C3%A9.jsonl");
        assertEquals("raw/my data/trainé.jsonl",
                PrepareTrigger.objectsCreated(new ObjectMapper().readTree(spaced)).get(0).key());
    }

    @Test
    void anEventBridgeObjectCreatedEventNamesTheUploadedObject() throws Exception {
        PrepareRequest request = RequestParser.parse(Files.readString(Path.of("events/prepare-eventbridge.json")), PrepareRequest.class);
        assertEquals(List.of(new PrepareTrigger.ObjectCreated("gpt2cls-data-123456789012", "raw/spam/train.prepare.json")),
                request.triggeredBy);
    }

    @Test
    void anEventWithoutACreatedObjectIsRefused() {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> RequestParser.parse(
                "{\"Records\": [{\"eventSource\": \"aws:s3\", \"eventName\": \"ObjectRemoved:Delete\"}]}", PrepareRequest.class));
        assertTrue(e.getMessage().startsWith("the event announces no created S3 object"), e.getMessage());
    }

    @Test
    void stemsIgnoreEveryExtension() {
        assertEquals("train", PrepareTrigger.stem("train.jsonl.gz"));
        assertEquals("test", PrepareTrigger.stem("Test.parquet"));
    }
}
