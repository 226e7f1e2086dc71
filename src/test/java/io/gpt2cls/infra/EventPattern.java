package io.gpt2cls.infra;

import java.util.Iterator;
import java.util.Locale;
import java.util.Map;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * EventBridge's event pattern matching, for the matchers our rules use: exact values, {@code prefix},
 * {@code suffix}, {@code wildcard}, {@code anything-but}, {@code exists}, {@code equals-ignore-case}.
 * A pattern field that is an object descends into the event; one that is a list matches when any of its
 * entries matches the event's value (or, for a list in the event, any of its elements). Every field of
 * the pattern must match. Numeric and CIDR matching are not implemented (an exception says so).
 */
public final class EventPattern {

    private EventPattern() {}

    public static boolean matches(JsonNode pattern, JsonNode event) {
        Iterator<Map.Entry<String, JsonNode>> fields = pattern.fields();
        while (fields.hasNext()) {
            Map.Entry<String, JsonNode> field = fields.next();
            JsonNode value = event == null ? null : event.get(field.getKey());
            JsonNode rule = field.getValue();
            boolean ok = rule.isObject() ? value != null && value.isObject() && matches(rule, value) : anyMatches(rule, value);
            if (!ok) {
                return false;
            }
        }
        return true;
    }

    private static boolean anyMatches(JsonNode rules, JsonNode value) {
        if (!rules.isArray()) {
            throw new IllegalArgumentException("a pattern's leaf must be a list of values or matchers, got " + rules);
        }
        for (JsonNode rule : rules) {
            if (rule.isObject() && rule.has("exists")) {
                if (rule.get("exists").asBoolean() == (value != null)) {
                    return true;
                }
                continue;
            }
            if (value == null) {
                continue;
            }
            if (value.isArray()) {
                for (JsonNode element : value) {
                    if (matchesOne(rule, element)) {
                        return true;
                    }
                }
            } else if (matchesOne(rule, value)) {
                return true;
            }
        }
        return false;
    }

    private static boolean matchesOne(JsonNode rule, JsonNode value) {
        if (!rule.isObject()) {
            return rule.equals(value);
        }
        String text = value.isTextual() ? value.textValue() : null;
        if (rule.has("prefix")) {
            return text != null && text.startsWith(rule.get("prefix").asText());
        }
        if (rule.has("suffix")) {
            return text != null && text.endsWith(rule.get("suffix").asText());
        }
        if (rule.has("wildcard")) {
            return text != null && wildcard(rule.get("wildcard").asText(), text);
        }
        if (rule.has("equals-ignore-case")) {
            return text != null && text.toLowerCase(Locale.ROOT).equals(rule.get("equals-ignore-case").asText().toLowerCase(Locale.ROOT));
        }
        if (rule.has("anything-but")) {
            JsonNode but = rule.get("anything-but");
            if (but.isObject()) {
                return !matchesOne(but, value);
            }
            if (but.isArray()) {
                for (JsonNode excluded : but) {
                    if (excluded.equals(value)) {
                        return false;
                    }
                }
                return true;
            }
            return !but.equals(value);
        }
        throw new UnsupportedOperationException("matcher not implemented here: " + rule);
    }

    /** EventBridge's wildcard: {@code *} matches any characters, {@code /} included; {@code \*} is a literal star. */
    public static boolean wildcard(String pattern, String text) {
        StringBuilder regex = new StringBuilder();
        for (int i = 0; i < pattern.length(); i++) {
            char c = pattern.charAt(i);
            if (c == '\\' && i + 1 < pattern.length()) {
                regex.append(java.util.regex.Pattern.quote(String.valueOf(pattern.charAt(++i))));
            } else if (c == '*') {
                regex.append(".*");
            } else {
                regex.append(java.util.regex.Pattern.quote(String.valueOf(c)));
            }
        }
        return text.matches(regex.toString());
    }
}
