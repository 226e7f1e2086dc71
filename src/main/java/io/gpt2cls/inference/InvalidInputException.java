package io.gpt2cls.inference;

import io.gpt2cls.runtime.ActionableException;

/** Texts that cannot be classified as sent (none, empty, too many, too long); the message names the limit. */
public class InvalidInputException extends ActionableException {
    public InvalidInputException(String message) {
        super(message);
    }
}
