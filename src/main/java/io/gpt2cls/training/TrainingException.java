package io.gpt2cls.training;

/** Training cannot go on (diverged loss, incompatible inputs); the message says what to change. */
public class TrainingException extends RuntimeException {
    public TrainingException(String message) {
        super(message);
    }
}
