package io.gpt2cls.storage;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import org.jboss.logging.Logger;

/**
 * A lease this process holds, kept alive by a heartbeat every third of its time to live. Its
 * holder calls {@link #requireValid()} before each write: once the last successful renewal is two
 * thirds of the lease's time old, the lease may be about to expire and be taken over, so the
 * holder stops writing rather than write beside the run that took it over.
 */
abstract class HeldLease implements ArtifactStore.Lease {

    private static final Logger LOG = Logger.getLogger(HeldLease.class);
    private static final ScheduledExecutorService HEARTBEAT = Executors.newSingleThreadScheduledExecutor(task -> {
        Thread thread = new Thread(task, "lease-heartbeat");
        thread.setDaemon(true);
        return thread;
    });
    /** Renewals run here, each on its own thread: one that hangs on the network must not hold up the others. */
    private static final ExecutorService RENEWALS = Executors.newCachedThreadPool(task -> {
        Thread thread = new Thread(task, "lease-renewal");
        thread.setDaemon(true);
        return thread;
    });

    /** The tokens of the leases this process holds now. */
    private static final Set<String> HELD_HERE = ConcurrentHashMap.newKeySet();

    final Location location;
    final LeaseRecord record;
    private final long ttlNanos;
    /** When the last successful renewal was sent (System.nanoTime). */
    private volatile long renewedAt = System.nanoTime();
    private volatile PublishConflictException lost;
    private ScheduledFuture<?> heartbeat;
    private final AtomicBoolean renewing = new AtomicBoolean();
    private boolean closed;

    HeldLease(Location location, LeaseRecord record, Duration ttl) {
        this.location = location;
        this.record = record;
        this.ttlNanos = ttl.toNanos();
        HELD_HERE.add(record.token());
    }

    /**
     * Says that this process is taking the lease with this token: from before its first request, so
     * that no other thread here mistakes it, half taken, for a leftover ({@link #isHeldHere}).
     */
    static void taking(String token) {
        HELD_HERE.add(token);
    }

    /** Says that taking the lease with this token failed. */
    static void notTaken(String token) {
        HELD_HERE.remove(token);
    }

    /** Whether this process holds (or is taking) the lease with this token; else a lease naming this process is a leftover. */
    static boolean isHeldHere(String token) {
        return HELD_HERE.contains(token);
    }

    /** Starts the heartbeat; stores whose leases cannot expire (the local store's OS locks) do not call it. */
    final void keepAlive() {
        long period = Math.max(1, ttlNanos / 3);
        heartbeat = HEARTBEAT.scheduleWithFixedDelay(() -> {
            if (renewing.compareAndSet(false, true)) { // the previous renewal has returned
                RENEWALS.execute(() -> {
                    try {
                        beat();
                    } finally {
                        renewing.set(false);
                    }
                });
            }
        }, period, period, TimeUnit.NANOSECONDS);
    }

    @Override
    public LeaseRecord record() {
        return record;
    }

    @Override
    public final synchronized void check() throws IOException {
        requireValid();
        renewNow();
    }

    @Override
    public final void requireValid() throws PublishConflictException {
        if (lost != null) {
            throw lost;
        }
        if (heartbeat != null && System.nanoTime() - renewedAt > ttlNanos * 2 / 3) {
            throw new PublishConflictException("the lease on " + location + " has not been renewed for "
                    + Duration.ofNanos(System.nanoTime() - renewedAt).toSeconds() + " s (it lives "
                    + Duration.ofNanos(ttlNanos).toSeconds() + " s): stopped writing there, since another run may take it"
                    + " over; try again", record);
        }
    }

    private synchronized void beat() {
        if (closed || lost != null) {
            return;
        }
        try {
            renewNow();
        } catch (PublishConflictException e) {
            LOG.warnf("%s", e.getMessage());
        } catch (IOException | RuntimeException e) {
            LOG.warnf("could not renew the lease on %s (trying again in %d s): %s", location,
                    Duration.ofNanos(ttlNanos / 3).toSeconds(), e.getMessage());
        }
    }

    private void renewNow() throws IOException {
        long sent = System.nanoTime();
        try {
            renew();
            renewedAt = sent;
        } catch (PublishConflictException e) {
            lost = e;
            throw e;
        }
    }

    @Override
    public final synchronized void close() throws IOException {
        if (closed) {
            return;
        }
        closed = true;
        if (heartbeat != null) {
            heartbeat.cancel(false);
        }
        try {
            if (lost == null) {
                release();
            }
        } finally {
            HELD_HERE.remove(record.token());
        }
    }

    /** Waits a little longer at each attempt (0.1 s, 0.2 s, ... up to 2 s) while another run publishes. */
    static void backOff(int attempt) throws InterruptedIOException {
        try {
            Thread.sleep(Math.min(2000, 100L << Math.min(attempt - 1, 5)));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for a publish to finish");
        }
    }

    /** Records that the lease is lost (another run holds it) and throws that. */
    final void lost(PublishConflictException conflict) throws PublishConflictException {
        lost = conflict;
        throw conflict;
    }

    /** Renews the lease; throws {@link PublishConflictException} when another run holds it now. */
    abstract void renew() throws IOException;

    /** Gives the lease up, unless another run holds it by now. */
    abstract void release() throws IOException;
}
