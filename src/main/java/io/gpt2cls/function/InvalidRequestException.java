package io.gpt2cls.function;

import io.gpt2cls.runtime.ActionableException;

/** A request that cannot be run as sent: not JSON, the wrong shape, or a field with a bad value; names the field. */
public class InvalidRequestException extends ActionableException {

    private final String field;

    public InvalidRequestException(String field, String message) {
        super(message);
        this.field = field;
    }

    /** The request field at fault, as a path like {@code training.learning_rate} or {@code texts[2]}; null for the whole request. */
    public String field() {
        return field;
    }
}
