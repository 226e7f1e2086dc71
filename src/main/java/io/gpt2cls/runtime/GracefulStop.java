package io.gpt2cls.runtime;

import java.time.Duration;

import org.jboss.logging.Logger;

/**
 * Lets long native work stop cleanly when the JVM is asked to exit (SIGTERM: a spot instance
 * reclaimed, {@code aws batch terminate-job}, {@code docker stop}; or SIGINT).
 *
 * <p>Why: on SIGTERM the JVM runs its shutdown hooks and then exits the process, and at exit
 * libtorch's C++ static destructors free its allocator and thread pools while another thread may
 * still be inside libtorch. Before this class, 1 in 11 SIGTERMs during training crashed the JVM that
 * way: a SIGSEGV in {@code torchBackward} on the main thread after Quarkus had logged that it
 * stopped, exit 134, an hs_err file and a crash banner on stdout.
 *
 * <p>How: a job wraps its native work in {@link #enter()}. The first call installs a shutdown hook
 * that sets the stop flag ({@link #requested()}), which the work polls at safe points (the Trainer:
 * between updates, then it writes and publishes a checkpoint), and waits, at most
 * {@link #setTimeout the timeout}, until every scope has closed, i.e. the work has finished, closed
 * its NDManagers and left native code. Only then does the JVM go on to exit, with status 143 for
 * SIGTERM. Quarkus' own shutdown (which would stop the CDI beans the work uses) waits the same way
 * ({@link #stopAndAwait()}, from a {@code ShutdownEvent} observer).
 *
 * <p>Process-wide by nature (signals are), hence static. If the wait times out the JVM exits
 * anyway; the caller chooses the timeout to fit the platform's grace period (ECS: 110 s before SIGKILL).
 */
public final class GracefulStop {

    private static final Logger LOG = Logger.getLogger(GracefulStop.class);
    private static final Object LOCK = new Object();
    private static int active;
    private static boolean hookInstalled;
    private static volatile boolean requested;
    private static volatile Duration timeout = Duration.ofSeconds(100);

    private GracefulStop() {}

    /** A region of work the JVM's exit waits for; close it when the work has left native code. */
    public interface Scope extends AutoCloseable {
        @Override
        void close();
    }

    /** Enters a region of work; the first call installs the shutdown hook. */
    public static Scope enter() {
        synchronized (LOCK) {
            if (!hookInstalled) {
                Runtime.getRuntime().addShutdownHook(new Thread(GracefulStop::onJvmShutdown, "gpt2cls-graceful-stop"));
                hookInstalled = true;
            }
            active++;
        }
        return () -> {
            synchronized (LOCK) {
                active--;
                LOCK.notifyAll();
            }
        };
    }

    /** Whether the work should stop at its next safe point. */
    public static boolean requested() {
        return requested;
    }

    /**
     * Asks the work under way to stop at its next safe point, as a SIGTERM does, without the JVM
     * exiting: a job's own {@link Deadline}. The work then ends as stopped (finetune: exit 143).
     */
    public static void request(String why) {
        if (!requested) {
            LOG.infof("stop requested: %s", why);
            requested = true;
        }
    }

    /** How long the exit waits for work under way; set from configuration before the work starts. */
    public static void setTimeout(Duration wait) {
        timeout = wait;
    }

    /**
     * For an application's own shutdown (Quarkus' {@code ShutdownEvent}): when work is under way,
     * asks it to stop and waits for it, so the application's services stay up while it saves.
     */
    public static void stopAndAwait() {
        synchronized (LOCK) {
            if (active > 0) {
                awaitScopes();
            }
        }
    }

    private static void onJvmShutdown() {
        synchronized (LOCK) {
            awaitScopes();
        }
    }

    /** Sets the flag and waits, holding LOCK, until no scope is open or the timeout passes. */
    private static void awaitScopes() {
        boolean first = !requested; // Quarkus' hook and ours may both wait: one of them reports
        requested = true;
        if (active == 0) {
            return;
        }
        long start = System.nanoTime();
        long deadline = start + timeout.toNanos();
        if (first) {
            LOG.infof("stop requested (SIGTERM or SIGINT): waiting up to %d s for the work under way to stop at a safe point",
                    timeout.toSeconds());
        }
        try {
            while (active > 0 && System.nanoTime() < deadline) {
                LOCK.wait(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (!first) {
            return;
        }
        if (active > 0) {
            LOG.errorf("the work under way did not stop within %d s; exiting anyway", timeout.toSeconds());
        } else {
            LOG.infof("the work under way stopped %.1f s after the stop request; exiting", (System.nanoTime() - start) / 1e9);
        }
    }
}
