package io.gpt2cls.dataset;

import java.io.IOException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Worker pools whose owner, when it stops them, waits for every worker to end: the workers call into
 * the native tokenizer, which a native call cannot be interrupted in, and which the owner frees next
 * (a worker still encoding with a freed tokenizer aborts the JVM).
 */
final class Workers {

    /** Longest wait in {@link #stop}; a native batch is seconds of work, so only a hung call reaches it. */
    static final long STOP_WAIT_MINUTES = 10;

    private Workers() {}

    /** Daemon threads: a failed run never keeps the JVM alive. */
    static ExecutorService daemon(int threads, String name) {
        return Executors.newFixedThreadPool(threads, task -> {
            Thread thread = new Thread(task, name);
            thread.setDaemon(true);
            return thread;
        });
    }

    /** What {@code pending} computed; its failure rethrown as it was thrown on the worker. */
    static <T> T result(Future<T> pending, String what) throws IOException {
        try {
            return pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while " + what, e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(what + " failed", e.getCause());
        }
    }

    /** Drops the work not started, interrupts the rest, and waits until every worker has ended. */
    static void stop(ExecutorService workers) {
        workers.shutdownNow();
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(STOP_WAIT_MINUTES);
        try {
            while (!workers.isTerminated()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("workers did not stop within " + STOP_WAIT_MINUTES + " minutes");
                }
                try {
                    workers.awaitTermination(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true; // the wait must finish anyway: what the workers use is freed after it
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
