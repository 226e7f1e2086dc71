package io.gpt2cls.function;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * Where a run's plan is (a JSON array of {@link PlannedTask}s, one per map task) and how many tasks it
 * holds; {@code bucket} and {@code key} are what the Distributed Map's ItemReader reads.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PreparePlanResponse extends FunctionResponse {
    public String plan;
    public String bucket;
    public String key;
    public Integer tasks;
    /** Set when the run had been planned before (a retried state): the stored plan is the answer. */
    public Boolean plannedBefore;
}
