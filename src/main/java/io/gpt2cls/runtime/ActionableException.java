package io.gpt2cls.runtime;

/**
 * An error caused by what the caller gave (a request, a file, a location), whose message says what
 * is wrong, where, and how to fix it. The functions show these messages to callers as they are;
 * any other exception is an internal error, reported without its (internal) message.
 */
public abstract class ActionableException extends RuntimeException {
    protected ActionableException(String message) {
        super(message);
    }

    protected ActionableException(String message, Throwable cause) {
        super(message, cause);
    }
}
