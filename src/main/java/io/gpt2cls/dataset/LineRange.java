package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The lines of a file whose first byte is in {@code [from, to)}: the stream starts at the first line
 * start at or after {@code from} and ends after the line that holds byte {@code to - 1}. Ranges that
 * tile a file thus read each line exactly once, whatever the line lengths.
 */
final class LineRange extends InputStream {

    private static final int BUFFER = 64 * 1024;

    private final FileChannel channel;
    private final long to;
    private final ByteBuffer buffer = ByteBuffer.allocate(BUFFER).flip();
    /** The offset of the next byte to hand out. */
    private long position;
    /** The last byte handed out; a line break when nothing was (the stream starts at a line start). */
    private byte lastDelivered = '\n';
    private boolean ended;

    private LineRange(FileChannel channel, long from, long to) {
        this.channel = channel;
        this.to = to;
        this.position = from;
    }

    static InputStream open(Path file, long from, long to) throws IOException {
        FileChannel channel = FileChannel.open(file, StandardOpenOption.READ);
        try {
            LineRange range = new LineRange(channel, Math.max(from - 1, 0), to);
            if (from > 0) {
                range.skipToLineStart();
            }
            return range;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** From {@code from - 1}: through the first line break, so the stream starts where a line does. */
    private void skipToLineStart() throws IOException {
        int b;
        do {
            b = nextByte();
        } while (b >= 0 && b != '\n');
    }

    private int nextByte() throws IOException {
        if (!buffer.hasRemaining()) {
            buffer.clear();
            int n = channel.read(buffer, position);
            buffer.flip();
            if (n <= 0) {
                return -1;
            }
        }
        position++;
        return buffer.get() & 0xff;
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
    }

    /** Bytes before {@code to} pass; from {@code to} on, only up to the end of the line in progress. */
    @Override
    public int read(byte[] target, int offset, int length) throws IOException {
        if (ended || length == 0) {
            return ended ? -1 : 0;
        }
        int n = 0;
        while (n < length) {
            if (position >= to && (n > 0 ? target[offset + n - 1] : lastDelivered) == '\n') {
                ended = true;
                break;
            }
            int b = nextByte();
            if (b < 0) {
                ended = true;
                break;
            }
            target[offset + n++] = (byte) b;
        }
        if (n > 0) {
            lastDelivered = target[offset + n - 1];
        }
        return n == 0 ? -1 : n;
    }

    @Override
    public void close() throws IOException {
        channel.close();
    }
}
