package io.gpt2cls.function;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Base of the request POJOs. A request is read by {@link RequestParser}: strictly, with every
 * problem explained in the request's terms. On the Lambda path Jackson must not fail (its failures
 * reach the caller as a Java class name and a parser message), so the problem travels inside the
 * request and {@link #requireValid()} raises it where the function can answer with an error object.
 */
public abstract class StrictRequest {

    @JsonIgnore
    private InvalidRequestException problem;

    /** The JSON this request was read from: what the caller gave, defaults not included. */
    @JsonIgnore
    private ObjectNode json;

    /** What the caller gave; a request built in code (the pipeline's) gives every field it has. */
    ObjectNode json() {
        return json == null ? RequestParser.STRICT.valueToTree(this) : json;
    }

    void readFrom(ObjectNode json) {
        this.json = json;
    }

    void reportProblem(InvalidRequestException problem) {
        this.problem = problem;
    }

    /** Throws the problem found while reading the request (or that there was no request), if any. */
    static void requireValid(StrictRequest request) {
        if (request == null) {
            throw RequestParser.nullBody();
        }
        if (request.problem != null) {
            throw request.problem;
        }
    }

    /** A required field that is missing is an error naming the field and what it is for. */
    static void requireField(String value, String field, String what) {
        if (value == null || value.isBlank()) {
            throw new InvalidRequestException(field, "field '" + field + "' is required: " + what);
        }
    }
}
