package io.gpt2cls.function;

/** A step of a distributed prepare that works on the whole run: its plan, its reduce. */
public abstract class PrepareRunRequest extends StrictRequest {
    /** The prepare request the run is for, as the state machine's execution input holds it. */
    public PrepareRequest request;
    /** The run (the state machine's execution name): letters, digits, '-' and '_'. */
    public String run;
}
