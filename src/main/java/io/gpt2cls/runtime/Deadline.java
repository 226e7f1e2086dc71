package io.gpt2cls.runtime;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;

/**
 * Runs an action once, at a given time, on a daemon thread, unless closed first. A fine-tuning job's
 * own deadline: AWS Batch stops an attempt that reaches its timeout and does not retry it, so the job
 * asks itself to stop ({@link GracefulStop#request}) a margin before, checkpoints, and exits 143,
 * which Batch retries, resuming from the checkpoint.
 */
public final class Deadline implements AutoCloseable {

    private final Thread timer;

    private Deadline(Thread timer) {
        this.timer = timer;
    }

    /** Runs {@code action} at {@code when} (at once if that has passed). */
    public static Deadline at(Instant when, Clock clock, Runnable action) {
        Thread timer = new Thread(() -> {
            try {
                Thread.sleep(Math.max(0, Duration.between(clock.instant(), when).toMillis()));
            } catch (InterruptedException e) {
                return; // closed first
            }
            action.run();
        }, "gpt2cls-deadline");
        timer.setDaemon(true);
        timer.start();
        return new Deadline(timer);
    }

    /**
     * When a run that started at {@code start} stops on its own: {@code margin} (the update under way,
     * a checkpoint's save and upload) before the platform's {@code attemptTimeout}.
     */
    public static Instant before(Instant start, Duration attemptTimeout, Duration margin) {
        if (attemptTimeout.compareTo(margin) <= 0) {
            throw new IllegalArgumentException("the attempt timeout (" + attemptTimeout.toSeconds() + " s, setting"
                    + " gpt2cls.finetune.attempt-timeout) must be longer than the stop margin (" + margin.toSeconds()
                    + " s, gpt2cls.finetune.deadline-margin): training stops that long before the timeout to save a checkpoint");
        }
        return start.plus(attemptTimeout).minus(margin);
    }

    /** Cancels the action if it has not run yet. */
    @Override
    public void close() {
        timer.interrupt();
    }
}
