package io.gpt2cls.dataset;

import java.util.Locale;
import java.util.Set;
import java.util.function.UnaryOperator;

import com.fasterxml.jackson.databind.JsonNode;

/** Decides whether a row is a usable example: a non-blank text and a string or integer label. */
final class RowValidator {

    /** Longest text accepted; JSON Lines enforces it while parsing (see JsonLinesReader.LIMITS), other formats here. */
    static final int MAX_TEXT_CHARS = 1_000_000;

    /** What became of a row: accepted with its text and label, or rejected with the reason. */
    sealed interface Verdict permits Accepted, Rejected {}

    record Accepted(String text, String label) implements Verdict {}

    record Rejected(String reason, String text) implements Verdict {}

    private final String textColumn;
    private final String labelColumn;
    private final Set<String> allowedLabels;
    private final UnaryOperator<String> unknownLabelReason;

    /**
     * @param allowedLabels labels a row may carry, or {@code null} for any
     * @param unknownLabelReason the rejection reason for a label outside {@code allowedLabels}
     */
    RowValidator(String textColumn, String labelColumn, Set<String> allowedLabels, UnaryOperator<String> unknownLabelReason) {
        this.textColumn = textColumn;
        this.labelColumn = labelColumn;
        this.allowedLabels = allowedLabels;
        this.unknownLabelReason = unknownLabelReason;
    }

    Verdict check(SourceRow row) {
        if (row.unreadable() != null) {
            return new Rejected(row.unreadable(), null);
        }
        if (!row.value().isObject()) {
            return new Rejected("not a JSON object but " + describe(row.value()), null);
        }
        JsonNode textNode = row.value().get(textColumn);
        String textProblem = textProblem(textNode);
        String text = textNode != null && textNode.isTextual() ? textNode.textValue() : null;
        if (textProblem != null) {
            return new Rejected(textProblem, text);
        }
        JsonNode labelNode = row.value().get(labelColumn);
        if (labelNode == null || labelNode.isNull()) {
            return new Rejected("label column '" + labelColumn + "' is " + (labelNode == null ? "missing" : "null"), text);
        }
        String label;
        if (labelNode.isTextual()) {
            label = labelNode.textValue();
        } else if (labelNode.isIntegralNumber()) {
            label = labelNode.bigIntegerValue().toString();
        } else {
            return new Rejected("label column '" + labelColumn + "' is " + describe(labelNode)
                    + "; labels must be strings or integers", text);
        }
        if (label.isEmpty()) {
            return new Rejected("label column '" + labelColumn + "' is empty", text);
        }
        if (label.isBlank()) {
            return new Rejected("label column '" + labelColumn + "' holds only whitespace", text);
        }
        if (allowedLabels != null && !allowedLabels.contains(label)) {
            return new Rejected(unknownLabelReason.apply(label), text);
        }
        return new Accepted(text, label);
    }

    private String textProblem(JsonNode text) {
        String column = "text column '" + textColumn + "'";
        if (text == null) {
            return column + " is missing";
        }
        if (text.isNull()) {
            return column + " is null";
        }
        if (!text.isTextual()) {
            return column + " is " + describe(text) + ", not a string";
        }
        String value = text.textValue();
        if (value.length() > MAX_TEXT_CHARS) {
            return "text has " + value.length() + " characters; the limit is " + MAX_TEXT_CHARS;
        }
        if (value.isEmpty()) {
            return column + " is empty";
        }
        if (value.isBlank()) {
            return column + " holds only whitespace";
        }
        return null;
    }

    private static String describe(JsonNode node) {
        if (node.isObject()) {
            return "an object";
        }
        if (node.isArray()) {
            return "an array";
        }
        if (node.isBoolean()) {
            return "a boolean (" + node.asText() + ")";
        }
        if (node.isIntegralNumber()) {
            return "an integer (" + node.asText() + ")";
        }
        if (node.isNumber()) {
            return "a decimal number (" + node.asText() + ")";
        }
        if (node.isTextual()) {
            return "a string";
        }
        return node.getNodeType().toString().toLowerCase(Locale.ROOT);
    }
}
