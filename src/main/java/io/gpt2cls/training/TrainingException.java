package io.gpt2cls.training;

import io.gpt2cls.runtime.ActionableException;

/** Training cannot go on (diverged loss, incompatible inputs); the message says what to change. */
public class TrainingException extends ActionableException {
    public TrainingException(String message) {
        super(message);
    }
}
