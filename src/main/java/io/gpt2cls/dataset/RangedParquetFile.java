package io.gpt2cls.dataset;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;

import org.apache.parquet.io.SeekableInputStream;

/** A Parquet file read through {@link InputBytes}: each read of the Parquet reader is one ranged read. */
final class RangedParquetFile implements org.apache.parquet.io.InputFile {

    private final InputFile file;
    private final InputBytes bytes;

    RangedParquetFile(InputFile file, InputBytes bytes) {
        this.file = file;
        this.bytes = bytes;
    }

    @Override
    public long getLength() throws IOException {
        return bytes.size(file);
    }

    @Override
    public SeekableInputStream newStream() {
        return new SeekableInputStream() {
            private long position;

            @Override
            public long getPos() {
                return position;
            }

            @Override
            public void seek(long to) {
                position = to;
            }

            @Override
            public int read() throws IOException {
                byte[] next = bytes.read(file, position, 1);
                if (next.length == 0) {
                    return -1;
                }
                position++;
                return next[0] & 0xff;
            }

            @Override
            public int read(byte[] target, int offset, int length) throws IOException {
                if (length == 0) {
                    return 0;
                }
                byte[] read = bytes.read(file, position, length);
                System.arraycopy(read, 0, target, offset, read.length);
                position += read.length;
                return read.length == 0 ? -1 : read.length;
            }

            @Override
            public void readFully(byte[] target) throws IOException {
                readFully(target, 0, target.length);
            }

            @Override
            public void readFully(byte[] target, int offset, int length) throws IOException {
                for (int n = 0; n < length; ) {
                    int read = read(target, offset + n, length - n);
                    if (read < 0) {
                        throw new EOFException(file.location() + " ends at byte " + position + ", before the " + length
                                + " bytes its footer says are there");
                    }
                    n += read;
                }
            }

            @Override
            public int read(ByteBuffer target) throws IOException {
                byte[] read = new byte[target.remaining()];
                int n = read(read, 0, read.length);
                if (n > 0) {
                    target.put(read, 0, n);
                }
                return n;
            }

            @Override
            public void readFully(ByteBuffer target) throws IOException {
                byte[] read = new byte[target.remaining()];
                readFully(read);
                target.put(read);
            }
        };
    }
}
