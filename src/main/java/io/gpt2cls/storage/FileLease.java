package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;

/**
 * The local store's lease: an OS lock on a hidden file beside the location
 * ({@code .<name>.<lease>.lock}). The operating system releases it when its process ends, however
 * it ends, so a crashed writer never blocks a location; another thread of the same process gets the
 * same refusal as another process. The file holds the {@link LeaseRecord} for messages and is deleted
 * on release, while still locked; a taker that locked a file deleted meanwhile notices (the path no
 * longer holds its token) and tries again.
 */
final class FileLease extends HeldLease {

    private final Path file;
    private final FileChannel channel;
    private final FileLock lock;

    private FileLease(Location location, LeaseRecord record, Path file, FileChannel channel, FileLock lock) {
        super(location, record, Duration.ofDays(365)); // an OS lock lives as long as its process: no expiry, no heartbeat
        this.file = file;
        this.channel = channel;
        this.lock = lock;
    }

    /** The lock file of lease {@code name} on the directory {@code dir}. */
    static Path file(Path dir, String name) {
        return dir.resolveSibling("." + dir.getFileName() + "." + name + ".lock");
    }

    /** Takes the lease, or throws {@link PublishConflictException} naming its holder. */
    static FileLease acquire(Location location, Path dir, String name, String purpose, String run) throws IOException {
        FileLease lease = tryAcquire(location, dir, name, purpose, run);
        if (lease == null) {
            Optional<LeaseRecord> holder = holder(dir, name);
            throw new PublishConflictException(location + " is held by " + holder.map(LeaseRecord::describe).orElse("another run")
                    + " (lock " + file(dir, name).getFileName() + "; released when that process ends); nothing was written."
                    + " Try again later, or write somewhere else", holder.orElse(null));
        }
        return lease;
    }

    /** Takes the lease, or returns null when a live process (or another thread of this one) holds it. */
    static FileLease tryAcquire(Location location, Path dir, String name, String purpose, String run) throws IOException {
        Path file = file(dir, name);
        Files.createDirectories(file.getParent());
        LeaseRecord mine = LeaseRecord.mine(run, purpose, Duration.ZERO);
        byte[] json = mine.toJson();
        for (int attempt = 1; attempt <= 10; attempt++) {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
            FileLock lock = null;
            try {
                try {
                    lock = channel.tryLock();
                } catch (OverlappingFileLockException heldHere) {
                    lock = null;
                }
                if (lock == null) {
                    channel.close();
                    return null;
                }
                channel.truncate(0);
                channel.write(ByteBuffer.wrap(json), 0);
                channel.force(true);
                if (holdsToken(file, json)) {
                    return new FileLease(location, mine, file, channel, lock);
                }
            } catch (IOException | RuntimeException e) {
                channel.close();
                throw e;
            }
            channel.close(); // the file was deleted by its previous holder after this one opened it: open the new one
        }
        return null;
    }

    /** What the lock file says about the current holder; empty when there is none or it is still writing its record. */
    static Optional<LeaseRecord> holder(Path dir, String name) {
        try {
            byte[] content = Files.readAllBytes(file(dir, name));
            return content.length == 0 ? Optional.empty() : Optional.of(LeaseRecord.parse(content));
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Whether a live process holds the lease now, without taking it (a reader must not make a writer
     * fail): the file exists and names a live process, or was created a moment ago and names none yet.
     */
    static boolean isHeld(Path dir, String name) {
        Path file = file(dir, name);
        try {
            Optional<LeaseRecord> holder = holder(dir, name);
            if (holder.isPresent()) {
                return OwnedFiles.isAlive(holder.get().pid(), holder.get().processStart());
            }
            FileTime modified = Files.getLastModifiedTime(file);
            return Duration.between(modified.toInstant(), Instant.now()).toSeconds() < 5;
        } catch (NoSuchFileException none) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    private static boolean holdsToken(Path file, byte[] json) {
        try {
            return Arrays.equals(Files.readAllBytes(file), json);
        } catch (IOException gone) {
            return false;
        }
    }

    @Override
    void renew() {
        // an OS lock needs no renewal
    }

    @Override
    void release() throws IOException {
        try {
            Files.deleteIfExists(file);
        } finally {
            lock.release();
            channel.close();
        }
    }
}
