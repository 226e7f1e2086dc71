package io.gpt2cls.hub;

import io.gpt2cls.runtime.ActionableException;

/** The Hub refused or could not give a model (gated, offline with nothing cached, not a GPT-2, a bad download); the message says what to do. */
public class HubException extends ActionableException {
    public HubException(String message) {
        super(message);
    }

    public HubException(String message, Throwable cause) {
        super(message, cause);
    }
}
