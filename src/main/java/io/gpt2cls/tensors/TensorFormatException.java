package io.gpt2cls.tensors;

/** A tensor file that cannot be read as what it claims to be; the message names the file and the tensor. */
public class TensorFormatException extends RuntimeException {
    public TensorFormatException(String message) {
        super(message);
    }
}
