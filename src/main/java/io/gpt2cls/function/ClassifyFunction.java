package io.gpt2cls.function;

import jakarta.inject.Inject;

import io.quarkus.funqy.Funq;

public class ClassifyFunction {

    @Inject
    ClassifyService service;

    @Funq
    public ClassifyResponse classify(ClassifyRequest request) {
        return FunctionResponse.answer("classify", () -> service.classify(request), ClassifyResponse::new);
    }
}
