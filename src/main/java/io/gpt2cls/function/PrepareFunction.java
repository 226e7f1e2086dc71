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
}
