package io.gpt2cls.dataset;

import java.io.EOFException;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;
import java.util.zip.ZipException;

/**
 * A gzip-compressed input file, decompressed as it is read. A stream cut short (an interrupted
 * upload) or damaged stops the job with a {@link DatasetException} that says how far it got; the
 * rows read before it are not enough to trust the file.
 */
final class GzipInput extends FilterInputStream {

    private static final int BUFFER = 64 * 1024;

    private final String location;
    private long bytesOut;

    private GzipInput(InputStream gzip, String location) {
        super(gzip);
        this.location = location;
    }

    /** Whether {@code file} starts with gzip's magic bytes (1f 8b), whatever its name. */
    static boolean isGzip(Path file) throws IOException {
        try (InputStream in = Files.newInputStream(file)) {
            return isGzip(in.readNBytes(MAGIC_BYTES));
        }
    }

    /** Gzip's magic bytes are a file's first {@value #MAGIC_BYTES}. */
    static final int MAGIC_BYTES = 2;

    static boolean isGzip(byte[] head) {
        return head.length >= MAGIC_BYTES && (head[0] & 0xff) == 0x1f && (head[1] & 0xff) == 0x8b;
    }

    static InputStream open(Path file, String location) throws IOException {
        InputStream raw = Files.newInputStream(file);
        try {
            return new GzipInput(new GZIPInputStream(raw, BUFFER), location);
        } catch (IOException e) {
            raw.close();
            throw damaged(location, 0, e);
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] buffer, int offset, int length) throws IOException {
        int n;
        try {
            n = super.read(buffer, offset, length);
        } catch (EOFException e) {
            throw new DatasetException(location + " is truncated: the gzip stream ends after " + bytesOut
                    + " bytes of output; re-upload it");
        } catch (ZipException e) {
            throw damaged(location, bytesOut, e);
        }
        if (n > 0) {
            bytesOut += n;
        }
        return n;
    }

    private static DatasetException damaged(String location, long bytesOut, IOException e) {
        return new DatasetException(location + " is not a valid gzip stream after " + bytesOut + " bytes of output ("
                + e.getMessage() + "); re-upload it, or compress it again with gzip");
    }
}
