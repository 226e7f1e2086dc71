package io.gpt2cls.dataset;

import io.gpt2cls.runtime.ActionableException;

/** A dataset or spec that cannot be prepared or read, with a message that names the file and says what to change. */
public class DatasetException extends ActionableException {
    public DatasetException(String message) {
        super(message);
    }
}
