package io.gpt2cls.storage;

/** No committed set (or no file) at a location. */
public class ArtifactNotFoundException extends StorageException {
    public ArtifactNotFoundException(String message) {
        super(message);
    }
}
