package io.gpt2cls.function;

import java.io.IOException;
import java.lang.reflect.InvocationTargetException;

import jakarta.inject.Singleton;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.module.SimpleModule;

import io.quarkus.jackson.ObjectMapperCustomizer;

/**
 * Makes the Lambda runtime read requests through {@link RequestParser}: the runtime's ObjectMapper
 * (a copy of this application's) gets a deserializer per request class that never fails, but puts
 * the problem into the request for the function to answer with.
 */
@Singleton
public class RequestModule implements ObjectMapperCustomizer {

    @Override
    public void customize(ObjectMapper mapper) {
        mapper.getFactory().setStreamReadConstraints(RequestParser.LIMITS);
        SimpleModule module = new SimpleModule("gpt2cls-requests");
        add(module, PrepareRequest.class);
        add(module, FinetuneRequest.class);
        add(module, ClassifyRequest.class);
        mapper.registerModule(module);
    }

    private static <T extends StrictRequest> void add(SimpleModule module, Class<T> type) {
        module.addDeserializer(type, new Lenient<>(type));
    }

    static final class Lenient<T extends StrictRequest> extends StdDeserializer<T> {
        private final Class<T> type;

        Lenient(Class<T> type) {
            super(type);
            this.type = type;
        }

        @Override
        public T deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            try {
                return RequestParser.bind(RequestParser.readTree(parser), type);
            } catch (InvalidRequestException e) {
                return withProblem(e);
            }
        }

        /** A body of {@code null} arrives here, not in {@link #deserialize}. */
        @Override
        public T getNullValue(DeserializationContext context) {
            return withProblem(RequestParser.nullBody());
        }

        private T withProblem(InvalidRequestException problem) {
            try {
                T request = type.getDeclaredConstructor().newInstance();
                request.reportProblem(problem);
                return request;
            } catch (InstantiationException | IllegalAccessException | InvocationTargetException | NoSuchMethodException e) {
                throw new IllegalStateException(type + " needs a public no-argument constructor", e);
            }
        }
    }
}
