package io.gpt2cls.tokenizer;

import io.gpt2cls.runtime.ActionableException;

/** A tokenizer file that cannot be used, with a message that names it and says what to give instead. */
public class TokenizerException extends ActionableException {
    public TokenizerException(String message) {
        super(message);
    }
}
