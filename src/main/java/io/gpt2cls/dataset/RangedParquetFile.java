package io.gpt2cls.dataset;

import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;

import org.apache.parquet.io.DelegatingSeekableInputStream;
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
        RangedStream ranged = new RangedStream();
        return new DelegatingSeekableInputStream(ranged) {
            @Override
            public long getPos() {
                return ranged.position;
            }

            @Override
            public void seek(long to) {
                ranged.position = to;
            }
        };
    }

    /**
     * Reads the file from {@link #position} on, which the seekable stream around it moves. The Parquet reader
     * reads only what the footer says is there, so a read at the end means the file is shorter than its footer
     * says: that is an error naming the file, not the end of a stream.
     */
    private final class RangedStream extends InputStream {
        private long position;

        @Override
        public int read() throws IOException {
            byte[] next = new byte[1];
            return read(next, 0, 1) < 0 ? -1 : next[0] & 0xff;
        }

        @Override
        public int read(byte[] target, int offset, int length) throws IOException {
            if (length == 0) {
                return 0;
            }
            byte[] read = bytes.read(file, position, length);
            if (read.length == 0) {
                throw new EOFException(file.location() + " ends at byte " + position + ", before the " + length
                        + " bytes its footer says are there; upload it again, or export it again");
            }
            System.arraycopy(read, 0, target, offset, read.length);
            position += read.length;
            return read.length;
        }
    }
}
