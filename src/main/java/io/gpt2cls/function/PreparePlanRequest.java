package io.gpt2cls.function;

/** The plan of a distributed prepare: the run's map tasks, stored under the run once. */
public class PreparePlanRequest extends PrepareRunRequest {
}
