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
    /** Only the k most probable labels in each result's probabilities, most probable first. */
    public Integer topK;
    /**
     * The model to serve, a location among the allowed ones. A container serves one model: naming
     * another one switches the container to it (for every later request too) once it has loaded.
     */
    public String model;

    /** For a Distributed Map batch: each item's identifier (or null), echoed in its result. */
    @JsonIgnore
    List<JsonNode> itemIds;

    /** Arrived in a Function URL (HTTP) event: answered with an HTTP response. */
    @JsonIgnore
    boolean viaHttp;

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
