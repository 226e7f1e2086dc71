package io.gpt2cls.runtime;

import java.time.Duration;

import org.jboss.logging.Logger;

import com.sun.jna.Native;

/**
 * Lets long native work stop cleanly, and in bounded time, when the process is asked to stop:
 * SIGTERM (a spot instance reclaimed, {@code aws batch terminate-job}, {@code docker stop}), SIGINT,
 * or {@link #request} (a spot interruption notice, {@link SpotInterruptionWatcher}).
 *
 * <p>Why: on SIGTERM the JVM runs its shutdown hooks and then exits the process, and at exit
 * libtorch's C++ static destructors free its allocator and thread pools while another thread may
 * still be inside libtorch. Before this class, 1 in 11 SIGTERMs during training crashed the JVM that
 * way: a SIGSEGV in {@code torchBackward} on the main thread after Quarkus had logged that it
 * stopped, exit 134, an hs_err file and a crash banner on stdout.
 *
 * <p>How: a job wraps its native work in {@link #enter()}. The first call installs a shutdown hook
 * that sets the stop flag ({@link #requested()}), which the work polls at safe points (the Trainer:
 * between updates and evaluation batches, then it writes and publishes a checkpoint), and waits
 * until every scope has closed, i.e. the work has finished, closed its NDManagers and left native
 * code. Only then does the JVM go on to exit, with status 143 for SIGTERM. Quarkus' own shutdown
 * (which would stop the CDI beans the work uses) waits the same way ({@link #stopAndAwait()}, from a
 * {@code ShutdownEvent} observer).
 *
 * <p>The wait is bounded by the <b>stop deadline</b> ({@link #setDeadline}, counted from the first
 * request, 25 s by default: ECS sends SIGKILL 30 s after SIGTERM unless the task says otherwise).
 * When it passes with work still under way, the process ends at once with
 * {@value #DEADLINE_PASSED_EXIT_STATUS} through libc's {@code _exit}: neither {@code System.exit}
 * nor {@code Runtime.halt} would do, because both end in {@code exit()}, which runs libtorch's static
 * destructors under the thread still inside libtorch (the crash above). A set being published at
 * that moment is never committed (its commit object goes last), so readers and the retry see the
 * newest complete checkpoint.
 *
 * <p>Process-wide by nature (signals are), hence static.
 */
public final class GracefulStop {

    /**
     * Exit status when the stop deadline passed before the work stopped: as {@code timeout(1)} reports
     * a command it had to end. 0, 1, 2, 75 and 143 mean other things (see the CLI).
     */
    public static final int DEADLINE_PASSED_EXIT_STATUS = 142; // 128 + SIGALRM: the stop's alarm ran out (Batch retries 14*)

    private static final Logger LOG = Logger.getLogger(GracefulStop.class);
    private static final Object LOCK = new Object();
    private static int active;
    private static boolean hookInstalled;
    private static volatile boolean requested;
    private static long requestedAt; // System.nanoTime() of the first request, under LOCK
    private static volatile Duration deadline = Duration.ofSeconds(25);

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
                Runtime.getRuntime().addShutdownHook(new Thread(() -> awaitScopes("SIGTERM or SIGINT"), "gpt2cls-graceful-stop"));
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

    /** How long a stop may take, from the first request; set from configuration before the work starts. */
    public static void setDeadline(Duration stopDeadline) {
        deadline = stopDeadline;
    }

    /**
     * Asks the work under way to stop at its next safe point, as SIGTERM does, without the JVM
     * exiting yet (the job ends itself once it has saved); the stop deadline holds all the same.
     */
    public static void request(String why) {
        Thread watchdog = new Thread(() -> awaitScopes(why), "gpt2cls-stop-deadline");
        watchdog.setDaemon(true);
        watchdog.start();
    }

    /**
     * For an application's own shutdown (Quarkus' {@code ShutdownEvent}): when work is under way,
     * asks it to stop and waits for it, so the application's services stay up while it saves.
     */
    public static void stopAndAwait() {
        synchronized (LOCK) {
            if (active == 0) {
                return;
            }
        }
        awaitScopes("SIGTERM or SIGINT");
    }

    /**
     * Sets the flag and waits until no scope is open; past the deadline, ends the process. Several
     * may wait (the JVM's hook, Quarkus', a notice's watchdog): the first request reports.
     */
    private static void awaitScopes(String why) {
        synchronized (LOCK) {
            boolean first = !requested;
            if (first) {
                requested = true;
                requestedAt = System.nanoTime();
            }
            if (active == 0) {
                return; // nothing under way (also every ordinary exit, which runs the hook too)
            }
            if (first) {
                LOG.infof("stop requested (%s): the work under way stops at its next safe point and saves; stop deadline %d s",
                        why, deadline.toSeconds());
            }
            long end = requestedAt + deadline.toNanos();
            try {
                while (active > 0 && System.nanoTime() < end) {
                    LOCK.wait(Math.max(1, (end - System.nanoTime()) / 1_000_000));
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
            if (active > 0) {
                exitAtDeadline();
            } else if (first) {
                LOG.infof("the work under way stopped %.1f s after the stop request", (System.nanoTime() - requestedAt) / 1e9);
            }
        }
    }

    /** The deadline passed with work under way: end the process now, without running libtorch's static destructors. */
    private static void exitAtDeadline() {
        LOG.errorf("the stop deadline (%d s) passed and the work under way has not stopped: exiting with %d now; whatever it"
                + " was publishing stays uncommitted, and a retry resumes from the newest complete checkpoint",
                deadline.toSeconds(), DEADLINE_PASSED_EXIT_STATUS);
        System.out.flush();
        System.err.flush();
        try {
            Native.load("c", NativeRuntime.LibC.class)._exit(DEADLINE_PASSED_EXIT_STATUS);
        } catch (UnsatisfiedLinkError | RuntimeException e) {
            Runtime.getRuntime().halt(DEADLINE_PASSED_EXIT_STATUS); // no libc to call: the JVM's own, which runs exit()
        }
    }
}
