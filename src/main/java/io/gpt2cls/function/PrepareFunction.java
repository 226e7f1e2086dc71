package io.gpt2cls.function;

import jakarta.inject.Inject;

import io.quarkus.funqy.Funq;

public class PrepareFunction {

    @Inject
    PrepareService service;

    /**
     * Prepares a dataset. A caller gets the answer, failed or not; an upload's event has no caller
     * (EventBridge invokes asynchronously), so a fault there (storage unavailable, an internal error)
     * is raised: only a function error makes Lambda retry the event and, after its retries, hand it
     * to the on-failure destination (infra/template.yaml). A refused input is answered, not retried.
     */
    @Funq
    public PrepareResponse prepare(PrepareRequest request) {
        PrepareResponse answer = FunctionResponse.answer("prepare", () -> service.prepare(request), PrepareResponse::new);
        if (request != null && request.triggeredBy != null && answer.error != null && answer.error.isFault()) {
            throw new EventFailedException(answer.error);
        }
        return answer;
    }

    /** An upload's event that could not be handled for a reason of ours: Lambda's errorType and errorMessage. */
    public static final class EventFailedException extends RuntimeException {
        EventFailedException(FunctionError error) {
            super(error.type() + ": " + error.message(), null, false, false); // the log has the trace, under the reference
        }
    }

    /** The plan of a distributed prepare: its map tasks, stored once per run (the Distributed Map reads them). */
    @Funq
    public PreparePlanResponse preparePlan(PreparePlanRequest request) {
        return FunctionResponse.answer("preparePlan", () -> service.plan(request), PreparePlanResponse::new);
    }

    /** A map task of a distributed prepare (the Distributed Map's item processor; see infra/README). */
    @Funq
    public PrepareMapResponse prepareMap(PrepareMapRequest request) {
        return FunctionResponse.answer("prepareMap", () -> service.map(request), PrepareMapResponse::new);
    }

    /** The reduce of a distributed prepare: publishes the dataset once per run. */
    @Funq
    public PrepareResponse prepareReduce(PrepareReduceRequest request) {
        return FunctionResponse.answer("prepareReduce", () -> service.reduce(request), PrepareResponse::new);
    }
}
