package io.gpt2cls.function;

import jakarta.inject.Inject;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.quarkus.funqy.Funq;

public class ClassifyFunction {

    @Inject
    ClassifyService service;

    @Inject
    ObjectMapper json;

    /**
     * The Lambda entry point: the answer, or for a Function URL event an HTTP response with the answer
     * as its body and the status its error gives (4xx refused, 5xx fault), rather than 200 for all.
     */
    @Funq("classify")
    public Object invoke(ClassifyRequest request) throws JsonProcessingException {
        ClassifyResponse answer = classify(request);
        return request != null && request.viaHttp ? ClassifyEvents.httpResponse(answer, json) : answer;
    }

    public ClassifyResponse classify(ClassifyRequest request) {
        return FunctionResponse.answer("classify", () -> service.classify(request), ClassifyResponse::new);
    }
}
