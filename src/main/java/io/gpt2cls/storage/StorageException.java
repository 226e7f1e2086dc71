package io.gpt2cls.storage;

import io.gpt2cls.runtime.ActionableException;

/** A location that cannot be read or written as asked; the message names the location and what to do. */
public class StorageException extends ActionableException {
    public StorageException(String message) {
        super(message);
    }

    public StorageException(String message, Throwable cause) {
        super(message, cause);
    }

    /** A ranged read of a planned file version found another version there ({@link ArtifactStore#openRange}). */
    static StorageException replacedSincePlanned(Location location, String version, String now, Throwable cause) {
        return new StorageException("'" + location + "' was replaced after it was planned (version " + version
                + (now == null ? "" : ", now " + now) + "); prepare it again", cause);
    }
}
