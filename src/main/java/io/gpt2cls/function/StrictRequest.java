package io.gpt2cls.function;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;

/**
 * Base of the request POJOs: a field the request class does not have is an error naming the known
 * fields, so a typo ("txt", "max_lenght") never silently falls back to a default. Unknown fields
 * are collected while parsing and rejected by the service: an exception thrown inside Jackson
 * would reach the caller only as the Lambda runtime's generic "could not deserialize".
 */
public abstract class StrictRequest {

    private final List<String> unknownFields = new ArrayList<>();

    @JsonAnySetter
    void unknownField(String name, Object value) {
        unknownFields.add(name);
    }

    /** A required field that is missing is an error naming the field and what it is for. */
    static void requireField(String value, String field, String what) {
        if (value == null || value.isBlank()) {
            throw new IllegalArgumentException("request field '" + field + "' is required: " + what);
        }
    }

    void rejectUnknownFields() {
        if (!unknownFields.isEmpty()) {
            PropertyNamingStrategies.NamingBase snake = (PropertyNamingStrategies.NamingBase) PropertyNamingStrategies.SNAKE_CASE;
            String known = Arrays.stream(getClass().getFields())
                    .filter(f -> !Modifier.isStatic(f.getModifiers()))
                    .map(Field::getName)
                    .map(snake::translate)
                    .collect(Collectors.joining(", "));
            throw new IllegalArgumentException("unknown request field '" + String.join("', '", unknownFields)
                    + "'; the fields are: " + known);
        }
    }
}
