package io.gpt2cls.function;

import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** Where the model went and how training went. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class FinetuneResponse extends FunctionResponse {
    public String output;
    public Integer globalStep;
    public Double epoch;
    public Double trainLoss;
    public Double trainRuntimeSeconds;
    public Double trainSamplesPerSecond;
    public Double trainTokensPerSecond;
    public String bestModelCheckpoint;
    public Double bestMetric;
    /** Evaluation on the dataset's test split after the last epoch; absent without one. */
    public Evaluation eval;

    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    public static class Evaluation {
        public double loss;
        public double accuracy;
        public double macroF1;
        public Map<String, Map<String, Double>> perClass;
        public List<String> labels;
        /** Rows = true label, columns = predicted label, in {@code labels} order. */
        public long[][] confusionMatrix;
    }
}
