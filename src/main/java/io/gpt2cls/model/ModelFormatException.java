package io.gpt2cls.model;

/** A checkpoint or config that cannot be used, with a message that says which file and why. */
public class ModelFormatException extends RuntimeException {
    public ModelFormatException(String message) {
        super(message);
    }
}
