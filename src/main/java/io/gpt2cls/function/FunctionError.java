package io.gpt2cls.function;

import com.fasterxml.jackson.annotation.JsonInclude;

import io.gpt2cls.runtime.ActionableException;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.PublishConflictException;

/**
 * Why a call failed, as its caller reads it: a type to branch on, a message to act on, and the
 * request field at fault when there is one.
 *
 * @param type {@code invalid_request} (the request itself), {@code not_found} (a location holds
 *             nothing usable), {@code invalid_input} (a dataset, model or file it names cannot be
 *             used), {@code conflict} (another run holds the location: it is publishing or training
 *             there; the message names it and since when; try again later), or {@code internal} (a fault of this service; the message carries a reference
 *             to find it in the log)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FunctionError(String type, String message, String field) {

    public static final String INVALID_REQUEST = "invalid_request";
    public static final String NOT_FOUND = "not_found";
    public static final String INVALID_INPUT = "invalid_input";
    public static final String CONFLICT = "conflict";
    public static final String INTERNAL = "internal";

    static FunctionError of(ActionableException e) {
        if (e instanceof InvalidRequestException invalid) {
            return new FunctionError(INVALID_REQUEST, e.getMessage(), invalid.field());
        }
        if (e instanceof PublishConflictException) {
            return new FunctionError(CONFLICT, e.getMessage(), null);
        }
        return new FunctionError(e instanceof ArtifactNotFoundException ? NOT_FOUND : INVALID_INPUT, e.getMessage(), null);
    }

    static FunctionError internal(String reference) {
        return new FunctionError(INTERNAL, "internal error (reference " + reference
                + "); the function's log has the details under that reference", null);
    }
}
