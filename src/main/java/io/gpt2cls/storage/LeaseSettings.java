package io.gpt2cls.storage;

import java.time.Duration;

/**
 * How long leases live and readers wait (see {@link ArtifactStore}'s protocol).
 *
 * @param ttl a lease not renewed for this long is expired: a later writer may take it over. Holders
 *            renew every third of it, and stop writing once a renewal is more than a third of it late,
 *            so a slow writer never writes beside the one that took its lease over
 * @param readerWait how long a reader waits for a publish under way to finish before it answers
 *                   "being published" ({@link PublishConflictException})
 */
public record LeaseSettings(Duration ttl, Duration readerWait) {

    public LeaseSettings {
        if (ttl.toMillis() < 300) {
            throw new StorageException("a lease must live at least 300 ms (it is renewed every third of it)");
        }
    }

    /** Leases of 2 minutes (a crashed writer blocks its location that long at most); readers wait up to 20 s. */
    public static LeaseSettings defaults() {
        return new LeaseSettings(Duration.ofMinutes(2), Duration.ofSeconds(20));
    }
}
