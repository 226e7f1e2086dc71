package io.gpt2cls.function;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** Per input text, in request order: the label, its probability and all label probabilities. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class ClassifyResponse extends FunctionResponse {
    public String model;
    public List<Result> results;

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Result {
        /** The item's identifier, for a Distributed Map batch whose items have one. */
        public JsonNode id;
        public String label;
        public double score;
        public Map<String, Double> probabilities;
        /** Tokens the model read; more were cut off when {@code truncated}. */
        public int tokens;
        public boolean truncated;
    }
}
