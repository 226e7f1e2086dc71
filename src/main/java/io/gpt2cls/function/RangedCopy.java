package io.gpt2cls.function;

import java.io.IOException;
import java.io.InputStream;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import io.gpt2cls.dataset.InputBytes;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.StorageException;

/**
 * A local copy of a stored file that holds only the byte ranges fetched: a sparse file of the file's
 * full size with each range written at its offset (the holes take no disk), so the readers of a local
 * file read a range task's bytes unchanged, while a 10 GB input costs each task only its range. Every
 * byte read through it ({@link #read}) is fetched first; what the readers read is
 * {@link io.gpt2cls.dataset.PrepareTask#bytesRead}, fetched before they start (a test reads a task
 * from a copy whose other bytes are garbage, and gets the same result). Ranges are read from the
 * planned version only.
 */
final class RangedCopy implements InputBytes, AutoCloseable {

    private static final int BUFFER = 1 << 20;

    private final ArtifactStore store;
    private final Location location;
    private final String version;
    private final long size;
    private final Path dir;
    private final Path path;
    private final FileChannel channel;
    /** The ranges {@code [from, to)} fetched so far, sorted and apart. */
    private final List<long[]> fetched = new ArrayList<>();
    private long fetchedBytes;

    RangedCopy(ArtifactStore store, Location location, String version, long size) throws IOException {
        this.store = store;
        this.location = location;
        this.version = version;
        this.size = size;
        this.dir = Files.createTempDirectory("gpt2cls-range-");
        this.path = dir.resolve(location.name());
        try (RandomAccessFile file = new RandomAccessFile(path.toFile(), "rw")) {
            file.setLength(size); // a hole: no disk until written
        }
        this.channel = FileChannel.open(path, java.nio.file.StandardOpenOption.READ, java.nio.file.StandardOpenOption.WRITE);
    }

    /** The local copy, the file's full size; only what was fetched is the file's. */
    Path path() {
        return path;
    }

    /** Bytes fetched from the store into the copy. */
    long fetchedBytes() {
        return fetchedBytes;
    }

    @Override
    public long size(InputFile file) {
        return size;
    }

    @Override
    public byte[] read(InputFile file, long offset, int length) throws IOException {
        long end = Math.min(size, offset + length);
        if (offset >= end) {
            return new byte[0];
        }
        fetch(offset, end);
        return InputBytes.LOCAL.read(new InputFile(path, location.toString()), offset, length);
    }

    /** Fetches the bytes of {@code ranges}, each run of them at most {@code maxGap} apart in one request, their gaps too. */
    void fetch(List<long[]> ranges, long maxGap) throws IOException {
        for (long[] run : joined(ranges, maxGap)) {
            fetch(run[0], run[1]);
        }
    }

    /** {@code ranges} sorted, and those at most {@code maxGap} apart (0: touching or overlapping) joined into one, the gap with them. */
    private static List<long[]> joined(List<long[]> ranges, long maxGap) {
        List<long[]> sorted = new ArrayList<>(ranges);
        sorted.sort(Comparator.comparingLong(range -> range[0]));
        List<long[]> joined = new ArrayList<>();
        for (long[] range : sorted) {
            long[] last = joined.isEmpty() ? null : joined.get(joined.size() - 1);
            if (last != null && range[0] - last[1] <= maxGap) {
                last[1] = Math.max(last[1], range[1]);
            } else {
                joined.add(range.clone());
            }
        }
        return joined;
    }

    /** Fetches the bytes {@code [from, to)} of the file that the copy does not hold yet. */
    void fetch(long from, long to) throws IOException {
        long at = Math.max(from, 0);
        to = Math.min(to, size);
        for (long[] range : List.copyOf(fetched)) {
            if (at >= to) {
                break;
            }
            if (range[1] <= at) {
                continue;
            }
            if (range[0] > at) {
                fetchMissing(at, Math.min(range[0], to));
            }
            at = Math.max(at, range[1]);
        }
        if (at < to) {
            fetchMissing(at, to);
        }
    }

    private void fetchMissing(long from, long to) throws IOException {
        long at = from;
        try (InputStream in = store.openRange(location, version, from, to - from)) {
            byte[] buffer = new byte[BUFFER];
            for (int n = in.read(buffer); n > 0 && at < to; n = in.read(buffer)) {
                ByteBuffer chunk = ByteBuffer.wrap(buffer, 0, (int) Math.min(n, to - at));
                while (chunk.hasRemaining()) {
                    at += channel.write(chunk, at);
                }
            }
        }
        if (at < to) {
            throw new StorageException("'" + location + "' ended at byte " + at + ", before the " + size + " bytes it had when"
                    + " the run was planned; it was replaced meanwhile: prepare it again");
        }
        fetchedBytes += to - from;
        add(from, to);
    }

    private void add(long from, long to) {
        fetched.add(new long[] {from, to});
        List<long[]> held = joined(fetched, 0);
        fetched.clear();
        fetched.addAll(held);
    }

    @Override
    public void close() throws IOException {
        try {
            channel.close();
        } finally {
            Files.deleteIfExists(path);
            Files.deleteIfExists(dir);
        }
    }
}
