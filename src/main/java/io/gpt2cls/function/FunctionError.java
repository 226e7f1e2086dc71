package io.gpt2cls.function;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;

import io.gpt2cls.runtime.ActionableException;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.PublishConflictException;
import io.gpt2cls.storage.StorageUnavailableException;

/**
 * Why a call failed, as its caller reads it: a type to branch on, a message to act on, and the
 * request field at fault when there is one. The type is the one place a failure's cause is decided:
 * a Function URL's HTTP status ({@link #httpStatus}), whether an event's invocation is retried
 * ({@link #isFault}), and a job's exit status ({@code cli.ExitStatus}) follow from it.
 *
 * @param type {@code invalid_request} (the request itself), {@code not_found} (a location holds
 *             nothing usable), {@code invalid_input} (a dataset, model or file it names cannot be
 *             used), {@code conflict} (another run holds the location: it is publishing or training
 *             there; the message names it and since when; try again later), {@code unavailable}
 *             (storage could not be reached or kept failing; the same call later may succeed), or
 *             {@code internal} (a fault of this service; the message carries a reference to find it
 *             in the log)
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record FunctionError(String type, String message, String field) {

    public static final String INVALID_REQUEST = "invalid_request";
    public static final String NOT_FOUND = "not_found";
    public static final String INVALID_INPUT = "invalid_input";
    public static final String CONFLICT = "conflict";
    public static final String UNAVAILABLE = "unavailable";
    public static final String INTERNAL = "internal";

    static FunctionError of(ActionableException e) {
        return new FunctionError(typeOf(e), e.getMessage(), e instanceof InvalidRequestException invalid ? invalid.field() : null);
    }

    static FunctionError internal(String reference) {
        return new FunctionError(INTERNAL, "internal error (reference " + reference
                + "); the function's log has the details under that reference", null);
    }

    /** The type of a failure: what the caller gave for an {@link ActionableException}, else a fault of ours. */
    public static String typeOf(Throwable e) {
        if (e instanceof InvalidRequestException) {
            return INVALID_REQUEST;
        }
        if (e instanceof ArtifactNotFoundException) {
            return NOT_FOUND;
        }
        if (e instanceof PublishConflictException) {
            return CONFLICT;
        }
        for (Throwable cause = e; cause != null; cause = cause.getCause()) {
            if (cause instanceof StorageUnavailableException) {
                return UNAVAILABLE; // also below a wrapper (an upload on another thread)
            }
        }
        return e instanceof ActionableException ? INVALID_INPUT : INTERNAL;
    }

    /**
     * Not the caller's input: worth trying again (unavailable; conflict, once the other run is done), or a
     * bug to look into (internal). An upload's prepare raises these, so Lambda retries it.
     */
    @JsonIgnore // not a field of the answer
    public boolean isFault() {
        return type.equals(UNAVAILABLE) || type.equals(CONFLICT) || type.equals(INTERNAL);
    }

    /** The HTTP status a Function URL answers this error with: 4xx for what the caller sent, 5xx for faults. */
    @JsonIgnore
    public int httpStatus() {
        return switch (type) {
            case INVALID_REQUEST -> 400;
            case NOT_FOUND -> 404;
            case INVALID_INPUT -> 422;
            case CONFLICT -> 409;
            case UNAVAILABLE -> 503;
            default -> 500;
        };
    }
}
