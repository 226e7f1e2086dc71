package io.gpt2cls.function;

import java.util.UUID;
import java.util.function.Supplier;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.gpt2cls.runtime.ActionableException;

/**
 * Base of the response POJOs: a failed call answers with {@link #error} and nothing else, so a
 * caller always gets a JSON object it can read, and never a Java exception's class or message.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public abstract class FunctionResponse {

    private static final Logger LOG = Logger.getLogger(FunctionResponse.class);

    /** Set, alone, when the call failed. */
    public FunctionError error;

    /**
     * Runs a function's work; any failure becomes {@code failed} with its {@link #error} set. The
     * message of an {@link ActionableException} is the caller's to read; anything else is logged
     * with a reference, and the caller gets the reference only.
     */
    static <R extends FunctionResponse> R answer(String function, Supplier<R> work, Supplier<R> failed) {
        try {
            return work.get();
        } catch (ActionableException e) {
            LOG.warnf("%s refused: %s", function, e.getMessage());
            R response = failed.get();
            response.error = FunctionError.of(e);
            return response;
        } catch (RuntimeException | Error e) {
            String reference = UUID.randomUUID().toString();
            LOG.errorf(e, "%s failed with an internal error, reference %s", function, reference);
            R response = failed.get();
            response.error = FunctionError.internal(reference);
            return response;
        }
    }
}
