package io.gpt2cls.function;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** Per input text, in request order: the label, its probability and the label probabilities; which model answered, and how fast. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class ClassifyResponse extends FunctionResponse {
    /** The served model's location, as configured or requested. */
    public String model;
    /** Which version of that location answered: a hash of its files' ETags (S3) or of their sizes and times (local). */
    public String modelVersion;
    /** Time spent in the function on this request, from the parsed request to the response, in milliseconds. */
    public Double latencyMs;
    public List<Result> results;

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public static class Result {
        /** The item's identifier, for a Distributed Map batch whose items have one. */
        public JsonNode id;
        public String label;
        public double score;
        /** Every label's probability in the model's label order, or with top_k the k most probable, most probable first. */
        public Map<String, Double> probabilities;
        /** Tokens the model read; more were cut off when {@code truncated}. */
        public int tokens;
        public boolean truncated;
    }
}
