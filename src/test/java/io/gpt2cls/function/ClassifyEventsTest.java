package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;

import org.junit.jupiter.api.Test;

/** The envelopes classify requests arrive in: a Distributed Map batch, a Function URL event. */
class ClassifyEventsTest {

    @Test
    void aDistributedMapBatchGivesItsItemsTextsAndIdsInOrder() {
        ClassifyRequest request = RequestParser.parse("{\"Items\": [{\"id\": 7, \"text\": \"first\", \"label\": \"ham\"},"
                + " {\"text\": \"second\"}], \"BatchInput\": {\"run\": \"nightly\"}}", ClassifyRequest.class);
        assertEquals(List.of("first", "second"), request.allTexts());
        assertEquals(7, request.itemIds.get(0).asInt());
        assertNull(request.itemIds.get(1));
    }

    @Test
    void aBatchNamesItsTextColumn() {
        ClassifyRequest request = RequestParser.parse("{\"Items\": [{\"body\": \"csv row\", \"msg_id\": \"a1\"}],"
                + " \"BatchInput\": {\"text_field\": \"body\", \"id_field\": \"msg_id\"}}", ClassifyRequest.class);
        assertEquals(List.of("csv row"), request.allTexts());
        assertEquals("a1", request.itemIds.get(0).asText());
        InvalidRequestException missing = assertThrows(InvalidRequestException.class,
                () -> RequestParser.parse("{\"Items\": [{\"body\": \"x\"}]}", ClassifyRequest.class));
        assertEquals("field 'Items[0].text' must be a text (a JSON string), got nothing; name the text column with"
                + " BatchInput.text_field", missing.getMessage());
    }

    @Test
    void aFunctionUrlEventCarriesTheRequestInItsBody() {
        String body = "{\"texts\": [\"a\", \"b\"]}";
        ClassifyRequest plain = RequestParser.parse("{\"version\": \"2.0\", \"rawPath\": \"/\", \"requestContext\": {\"http\":"
                + " {\"method\": \"POST\"}}, \"body\": " + RequestParserTest.LAMBDA.valueToTree(body) + ", \"isBase64Encoded\": false}",
                ClassifyRequest.class);
        assertEquals(List.of("a", "b"), plain.allTexts());
        String encoded = Base64.getEncoder().encodeToString(body.getBytes(StandardCharsets.UTF_8));
        ClassifyRequest base64 = RequestParser.parse("{\"requestContext\": {\"http\": {\"method\": \"POST\"}}, \"body\": \""
                + encoded + "\", \"isBase64Encoded\": true}", ClassifyRequest.class);
        assertEquals(List.of("a", "b"), base64.allTexts());
        assertTrue(plain.viaHttp && base64.viaHttp, "answered as HTTP responses");
        // a bad body is answered too (with its status): the problem travels in the request
        ClassifyRequest badBody = RequestParser.parse("{\"requestContext\": {\"http\": {}}, \"body\": \"{\\\"txt\\\": 1}\"}",
                ClassifyRequest.class);
        assertTrue(badBody.viaHttp);
        InvalidRequestException bad = assertThrows(InvalidRequestException.class, () -> StrictRequest.requireValid(badBody));
        assertEquals("unknown field 'txt'; the fields of the request are: model, text, texts, top_k", bad.getMessage());
    }
}
