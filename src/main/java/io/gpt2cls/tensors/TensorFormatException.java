package io.gpt2cls.tensors;

import io.gpt2cls.runtime.ActionableException;

/** A tensor file that cannot be read as what it claims to be; the message names the file and the tensor. */
public class TensorFormatException extends ActionableException {
    public TensorFormatException(String message) {
        super(message);
    }
}
