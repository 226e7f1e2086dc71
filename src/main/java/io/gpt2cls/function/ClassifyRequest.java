package io.gpt2cls.function;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One text ({@code text}) or several ({@code texts}); both may be given, {@code text} comes first. The
 * same function takes Distributed Map batches and Function URL events ({@link ClassifyEvents}).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class ClassifyRequest extends StrictRequest {
    public String text;
    public List<String> texts;

    /** For a Distributed Map batch: each item's identifier (or null), echoed in its result. */
    @JsonIgnore
    List<JsonNode> itemIds;

    List<String> allTexts() {
        List<String> all = new ArrayList<>();
        if (text != null) {
            all.add(text);
        }
        if (texts != null) {
            all.addAll(texts);
        }
        return all;
    }
}
