package io.gpt2cls.storage;

import java.util.Optional;

/**
 * Another run holds the lease on a location: it is publishing a set there (or deleting one), or
 * runs a job that writes there. The message names who holds it, since when and when the lease
 * expires if that run died; nothing of the refused write was left behind. Readers get it too when a
 * publish stays under way longer than they wait.
 */
public class PublishConflictException extends StorageException {

    private final transient LeaseRecord holder;

    public PublishConflictException(String message, LeaseRecord holder) {
        super(message);
        this.holder = holder;
    }

    /** The lease as its holder recorded it; empty when it could not be read (it was being written or released). */
    public Optional<LeaseRecord> holder() {
        return Optional.ofNullable(holder);
    }
}
