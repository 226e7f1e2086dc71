package io.gpt2cls.function;

import jakarta.inject.Inject;

import io.gpt2cls.dataset.PrepareSummary;
import io.quarkus.funqy.Funq;

public class PrepareFunction {

    @Inject
    PrepareService service;

    @Funq
    public PrepareSummary prepare(PrepareRequest request) {
        return service.prepare(request);
    }
}
