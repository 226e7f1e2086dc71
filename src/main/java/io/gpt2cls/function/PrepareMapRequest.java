package io.gpt2cls.function;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One map task of a distributed prepare: an item of the run's plan (a whole input file, or a range of
 * it). Its result is stored under the run, keyed by the task, so a task delivered twice replaces its
 * earlier result whole.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PrepareMapRequest extends StrictRequest {
    /** The prepare request the run is for: its inputs, output and settings. */
    public PrepareRequest request;
    /** The run (the state machine's execution name): letters, digits, '-' and '_'. */
    public String run;
    /** The item of the plan. */
    public PlannedTask task;
}
