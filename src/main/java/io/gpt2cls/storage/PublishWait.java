package io.gpt2cls.storage;

import org.jboss.logging.Logger;

/** The pause between looks at a set another run is publishing ({@link ArtifactStore#publishOnce}). */
final class PublishWait {

    static final Logger LOG = Logger.getLogger(ArtifactStore.class);
    /** Between looks: a look is an existence check (one HEAD or stat) and, if absent, a lease attempt. */
    static final long POLL_MILLIS = 2_000;

    private PublishWait() {}

    /** Sleeps one poll interval; an interrupt ends the wait with the conflict that caused it. */
    static void pause(PublishConflictException busy) throws PublishConflictException {
        try {
            Thread.sleep(POLL_MILLIS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw busy;
        }
    }
}
