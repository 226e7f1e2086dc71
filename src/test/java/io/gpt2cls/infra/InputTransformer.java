package io.gpt2cls.infra;

import java.util.LinkedHashMap;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * EventBridge's input transformer, as its documentation states it: each {@code InputPathsMap} entry reads
 * a JSON path (dot notation) of the event; in the {@code InputTemplate}, {@code <name>} inside a JSON
 * string is replaced by the value's text, unescaped, and outside a string by the value as JSON. A path
 * missing from the event yields no variable; its placeholder stays as it is.
 */
public final class InputTransformer {

    private static final ObjectMapper JSON = new ObjectMapper();

    private InputTransformer() {}

    /** What the target receives, parsed as JSON (the template must give valid JSON, as EventBridge requires). */
    public static JsonNode apply(Map<String, String> inputPaths, String template, JsonNode event) {
        Map<String, JsonNode> variables = new LinkedHashMap<>();
        inputPaths.forEach((name, path) -> {
            JsonNode value = at(event, path);
            if (value != null) {
                variables.put(name, value);
            }
        });
        StringBuilder out = new StringBuilder();
        boolean inString = false;
        for (int i = 0; i < template.length(); i++) {
            char c = template.charAt(i);
            if (c == '"' && (i == 0 || template.charAt(i - 1) != '\\')) {
                inString = !inString;
            }
            int end = c == '<' ? template.indexOf('>', i) : -1;
            String name = end > i ? template.substring(i + 1, end) : null;
            if (name != null && variables.containsKey(name)) {
                JsonNode value = variables.get(name);
                out.append(inString && value.isValueNode() ? value.asText() : value.toString());
                i = end;
            } else {
                out.append(c);
            }
        }
        try {
            return JSON.readTree(out.toString());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("the transformed input is not valid JSON: " + out, e);
        }
    }

    private static JsonNode at(JsonNode event, String path) {
        if (!path.startsWith("$")) {
            throw new IllegalArgumentException("an input path starts with $: " + path);
        }
        JsonNode node = event;
        for (String part : path.substring(1).split("\\.")) {
            if (part.isEmpty()) {
                continue;
            }
            node = node == null ? null : node.get(part);
        }
        return node;
    }
}
