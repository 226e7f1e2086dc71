package io.gpt2cls.function;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One map task of a distributed prepare: one file of the run's train or test input (an item of the
 * Distributed Map's S3 listing). Its result is stored under the run, keyed by the input and the
 * file's name, so a task delivered twice replaces its earlier result whole.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PrepareMapRequest extends StrictRequest {
    /** The prepare request the run is for: its inputs, output and settings. */
    public PrepareRequest request;
    /** The run (the state machine's execution name): letters, digits, '-' and '_'. */
    public String run;
    /** {@code train} or {@code test}: the input the file belongs to. */
    public String input;
    /** The file, a location: {@code s3://bucket/key} of the listed object. */
    public String file;
}
