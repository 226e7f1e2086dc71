package io.gpt2cls.tokenizer;

import io.gpt2cls.runtime.ActionableException;

/** A tokenizer file that cannot be used with its model, with a message that says which file and why. */
public class TokenizerFormatException extends ActionableException {
    public TokenizerFormatException(String message) {
        super(message);
    }
}
