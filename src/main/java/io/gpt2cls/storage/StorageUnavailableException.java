package io.gpt2cls.storage;

/**
 * The store could not be reached or kept failing (S3 5xx, throttling, a network error) after the
 * SDK's own retries: nothing is wrong with the request, and the same call later may well succeed.
 * Callers that can come back later (a Batch job's next attempt, Lambda's async retries) should.
 */
public class StorageUnavailableException extends StorageException {
    public StorageUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
