package io.gpt2cls.training;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonValue;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.NullNode;

import io.gpt2cls.storage.Location;

/**
 * The request's {@code resume_from_checkpoint}, parsed once at the edge:
 * <ul>
 *   <li>absent or {@code null}: {@link Mode#AUTO}, resume the same run if the output holds one;</li>
 *   <li>{@code true} or {@code "latest"}: {@link Mode#LATEST}, resume the newest complete checkpoint
 *       under the output, even if the settings changed;</li>
 *   <li>{@code false}: {@link Mode#NEVER}, start over (the output's checkpoints are removed first);</li>
 *   <li>a location: {@link Mode#AT}, resume that checkpoint.</li>
 * </ul>
 */
public record ResumeFrom(Mode mode, Location checkpoint) {

    public enum Mode { AUTO, LATEST, NEVER, AT }

    public static final ResumeFrom AUTO = new ResumeFrom(Mode.AUTO, null);
    public static final ResumeFrom NEVER = new ResumeFrom(Mode.NEVER, null);

    @JsonCreator(mode = JsonCreator.Mode.DELEGATING)
    public static ResumeFrom of(JsonNode value) {
        if (value == null || value.isNull()) {
            return AUTO;
        }
        if (value.isBoolean()) {
            return value.booleanValue() ? new ResumeFrom(Mode.LATEST, null) : NEVER;
        }
        if (value.isTextual() && value.textValue().equals("latest")) {
            return new ResumeFrom(Mode.LATEST, null);
        }
        if (value.isTextual()) {
            return new ResumeFrom(Mode.AT, Location.parse(value.textValue()));
        }
        throw new IllegalArgumentException("must be true, \"latest\" (the newest checkpoint under the output), false (start over)"
                + " or the location of a checkpoint, got " + value);
    }

    /** The request value this was parsed from ({@link #of} reads it back). */
    @JsonValue
    public JsonNode json() {
        return switch (mode) {
            case AUTO -> NullNode.getInstance();
            case LATEST -> JsonNodeFactory.instance.textNode("latest");
            case NEVER -> BooleanNode.FALSE;
            case AT -> JsonNodeFactory.instance.textNode(checkpoint.toString());
        };
    }
}
