package io.gpt2cls.function;

/** The reduce of a distributed prepare: merges the map results of the run's plan and publishes the dataset, once per run. */
public class PrepareReduceRequest extends PrepareRunRequest {
}
