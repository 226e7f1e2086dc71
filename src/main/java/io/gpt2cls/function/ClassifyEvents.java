package io.gpt2cls.function;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The two envelopes a classify request can arrive in besides its own shape:
 * <ul>
 *   <li>a Step Functions Distributed Map batch, {@code {"Items": [...], "BatchInput": {...}}}: each
 *       item is a JSON Lines object or a CSV row; its text is the field named by
 *       {@code BatchInput.text_field} ({@code text} by default) and its identifier, echoed in the
 *       result so results can be joined back, the field {@code BatchInput.id_field} ({@code id});</li>
 *   <li>a Lambda Function URL or API Gateway HTTP API (payload 2.0) event, whose {@code body}
 *       (base64 when {@code isBase64Encoded}) is a classify request. The answer goes back as an HTTP
 *       response whose body is the answer and whose status follows from its error, if any.</li>
 * </ul>
 */
final class ClassifyEvents {

    static final String DEFAULT_TEXT_FIELD = "text";
    static final String DEFAULT_ID_FIELD = "id";

    private ClassifyEvents() {}

    static boolean isBatch(JsonNode tree) {
        return tree.has("Items");
    }

    static boolean isHttp(JsonNode tree) {
        return tree.path("requestContext").has("http") && tree.has("body");
    }

    static ClassifyRequest batch(JsonNode tree) {
        JsonNode items = tree.get("Items");
        if (!items.isArray()) {
            throw new InvalidRequestException("Items", "field 'Items' must be a list of items (JSON Lines objects or CSV rows)");
        }
        JsonNode batchInput = tree.path("BatchInput");
        String textField = setting(batchInput, "text_field", DEFAULT_TEXT_FIELD);
        String idField = setting(batchInput, "id_field", DEFAULT_ID_FIELD);
        ClassifyRequest request = new ClassifyRequest();
        request.texts = new ArrayList<>();
        request.itemIds = new ArrayList<>();
        for (int i = 0; i < items.size(); i++) {
            JsonNode item = items.get(i);
            String field = "Items[" + i + "]." + textField;
            if (!item.isObject()) {
                throw new InvalidRequestException("Items[" + i + "]", "field 'Items[" + i + "]' must be an object with a '"
                        + textField + "' field, got " + RequestParser.describe(item));
            }
            JsonNode text = item.get(textField);
            if (text == null || !text.isTextual()) {
                throw new InvalidRequestException(field, "field '" + field + "' must be a text (a JSON string), got "
                        + (text == null ? "nothing" : RequestParser.describe(text))
                        + "; name the text column with BatchInput.text_field");
            }
            request.texts.add(text.textValue());
            request.itemIds.add(item.get(idField));
        }
        return request;
    }

    private static String setting(JsonNode batchInput, String name, String fallback) {
        JsonNode value = batchInput.get(name);
        if (value == null || value.isNull()) {
            return fallback;
        }
        if (!value.isTextual() || value.textValue().isBlank()) {
            throw new InvalidRequestException("BatchInput." + name, "field 'BatchInput." + name + "' must name a field of the items");
        }
        return value.textValue();
    }

    /**
     * The request inside an HTTP event's body, marked as one so that the answer goes back as an HTTP
     * response ({@link #httpResponse}); a body that is not a valid request gives a request carrying
     * the problem, so that it too is answered with its status.
     */
    static ClassifyRequest http(JsonNode tree) {
        ClassifyRequest request;
        try {
            request = RequestParser.parse(body(tree), ClassifyRequest.class);
        } catch (InvalidRequestException e) {
            request = new ClassifyRequest();
            request.reportProblem(e);
        }
        request.viaHttp = true;
        return request;
    }

    private static String body(JsonNode tree) {
        JsonNode body = tree.get("body");
        if (!body.isTextual()) {
            throw new InvalidRequestException("body", "the HTTP request has no body; send a classify request as JSON");
        }
        String json = body.textValue();
        if (tree.path("isBase64Encoded").asBoolean(false)) {
            try {
                json = new String(Base64.getDecoder().decode(json), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw new InvalidRequestException("body", "the HTTP body is marked base64 but is not valid base64");
            }
        }
        return json;
    }

    /**
     * A Function URL's (payload 2.0) response: the answer, as it is, for the body, with status 200, or
     * the error's ({@link FunctionError#httpStatus}: 4xx for a refused request, 5xx for a fault).
     */
    static Map<String, Object> httpResponse(ClassifyResponse answer, ObjectMapper json) throws JsonProcessingException {
        Map<String, Object> response = new LinkedHashMap<>();
        response.put("statusCode", answer.error == null ? 200 : answer.error.httpStatus());
        response.put("headers", Map.of("content-type", "application/json"));
        response.put("body", json.writeValueAsString(answer));
        response.put("isBase64Encoded", false);
        return response;
    }
}
