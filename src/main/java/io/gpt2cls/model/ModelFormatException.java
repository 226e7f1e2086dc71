package io.gpt2cls.model;

import io.gpt2cls.runtime.ActionableException;

/** A checkpoint or config that cannot be used, with a message that says which file and why. */
public class ModelFormatException extends ActionableException {
    public ModelFormatException(String message) {
        super(message);
    }
}
