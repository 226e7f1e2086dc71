package io.gpt2cls.function;

import jakarta.inject.Inject;

import io.quarkus.funqy.Funq;

public class FinetuneFunction {

    @Inject
    FinetuneService service;

    @Funq
    public FinetuneResponse finetune(FinetuneRequest request) {
        return FunctionResponse.answer("finetune", () -> service.finetune(request), FinetuneResponse::new);
    }
}
