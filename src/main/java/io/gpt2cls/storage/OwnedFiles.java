package io.gpt2cls.storage;

/**
 * Temporary directories named after the process that owns them, so that a later process can tell
 * the leftovers of a dead one (removed) from the work of a live one (kept). Used by the local store's
 * staging and the S3 cache's downloads.
 */
final class OwnedFiles {

    /**
     * This process as a name part: pid and start time, since a pid alone is reused after a restart
     * (a Lambda sandbox's processes often get the same pid).
     */
    static final String OWNER = ProcessHandle.current().pid() + "-"
            + ProcessHandle.current().info().startInstant().map(i -> i.toEpochMilli()).orElse(0L);

    private OwnedFiles() {}

    /** Whether the process that wrote {@code pid-startMillis} still runs; when its start is unknown, assume it does. */
    static boolean isAlive(long pid, long startMillis) {
        return ProcessHandle.of(pid)
                .map(process -> process.info().startInstant().map(i -> i.toEpochMilli() == startMillis).orElse(true))
                .orElse(false);
    }
}
