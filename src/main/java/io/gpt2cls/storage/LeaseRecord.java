package io.gpt2cls.storage;

import java.io.IOException;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * What a lease object says about its holder ({@code .publish.lease}, {@code .run.lease}): which run,
 * doing what, in which process, since when, and how long the lease lives without a renewal.
 *
 * @param run the run's name: a job's own id when it has one (an AWS Batch job id: a retry of the
 *            same job may take over its dead attempt's lease), else {@code pid@host}
 * @param purpose what the holder is doing there, in words (e.g. "prepare of inputs 3f2a…"); may be null
 * @param token random, unique to this taking of the lease: renewals and the release check it
 * @param since when the lease was taken (ISO-8601, the holder's clock)
 * @param ttlSeconds the lease expires this long after its last renewal (the store's clock decides)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record LeaseRecord(String run, String purpose, String host, long pid, long processStart, String token, String since,
                          long ttlSeconds) {

    static final ObjectMapper JSON = new ObjectMapper().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final SecureRandom RANDOM = new SecureRandom();
    static final String HOST = hostName();

    /** A new lease for this process; {@code run} null names the process itself. */
    static LeaseRecord mine(String run, String purpose, Duration ttl) {
        ProcessHandle self = ProcessHandle.current();
        long start = self.info().startInstant().map(Instant::toEpochMilli).orElse(0L);
        byte[] token = new byte[8];
        RANDOM.nextBytes(token);
        return new LeaseRecord(run != null ? run : self.pid() + "@" + HOST, purpose, HOST, self.pid(), start,
                HexFormat.of().formatHex(token), Instant.now().toString(), Math.max(1, ttl.toSeconds()));
    }

    static LeaseRecord parse(byte[] json) throws IOException {
        return JSON.readValue(json, LeaseRecord.class);
    }

    byte[] toJson() {
        try {
            return JSON.writeValueAsBytes(this);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Whether the holder is gone and known to be: a process on this host that ended, or this process,
     * which no longer holds it (a publish here failed and could not give it back). Such a lease need
     * not wait for its expiry.
     */
    boolean holderGone() {
        if (!HOST.equals(host)) {
            return false;
        }
        ProcessHandle self = ProcessHandle.current();
        if (pid == self.pid() && processStart == self.info().startInstant().map(Instant::toEpochMilli).orElse(0L)) {
            return !HeldLease.isHeldHere(token);
        }
        return !OwnedFiles.isAlive(pid, processStart);
    }

    /** "run 123@host-a (prepare of inputs 3f2a…) since 2026-…Z", for messages. */
    public String describe() {
        return "run " + run + (purpose == null ? "" : " (" + purpose + ")") + " since " + since;
    }

    private static String hostName() {
        try {
            return InetAddress.getLocalHost().getHostName();
        } catch (IOException e) {
            return "unknown-host";
        }
    }
}
