package io.gpt2cls.function;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** The reduce of a distributed prepare: merges the run's map results and publishes the dataset, once per run. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PrepareReduceRequest extends StrictRequest {
    /** The prepare request the run is for, as its map tasks had it. */
    public PrepareRequest request;
    /** The run whose map results are merged. */
    public String run;
}
