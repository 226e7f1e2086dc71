package io.gpt2cls.storage;

import io.gpt2cls.runtime.ActionableException;

/** A location that cannot be read or written as asked; the message names the location and what to do. */
public class StorageException extends ActionableException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }
}
