package io.gpt2cls.function;

import jakarta.inject.Inject;

import io.quarkus.funqy.Funq;

public class PrepareFunction {

    @Inject
    PrepareService service;

    @Funq
    public PrepareResponse prepare(PrepareRequest request) {
        return FunctionResponse.answer("prepare", () -> service.prepare(request), PrepareResponse::new);
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
