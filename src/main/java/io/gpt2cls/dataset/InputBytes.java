package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;

/**
 * Reads input files by byte ranges, without a local copy of all of each: what planning needs of a
 * file (its size, its first bytes, a Parquet footer), and what a map task of a range fetches
 * ({@link PrepareTask#bytesRead}). The local files, or objects of a store read by ranged requests.
 */
public interface InputBytes {

    long size(InputFile file) throws IOException;

    /** Up to {@code length} bytes from {@code offset}; fewer at the end of the file. */
    byte[] read(InputFile file, long offset, int length) throws IOException;

    /** The local files the input files' paths name; a file that is not there has no bytes (its task reports it). */
    InputBytes LOCAL = new InputBytes() {
        @Override
        public long size(InputFile file) throws IOException {
            return Files.isRegularFile(file.path()) ? Files.size(file.path()) : 0;
        }

        @Override
        public byte[] read(InputFile file, long offset, int length) throws IOException {
            try (FileChannel channel = FileChannel.open(file.path(), StandardOpenOption.READ)) {
                ByteBuffer bytes = ByteBuffer.allocate((int) Math.max(0, Math.min(length, channel.size() - offset)));
                while (bytes.hasRemaining() && channel.read(bytes, offset + bytes.position()) > 0) {
                    // until the buffer is full: it was sized to what the file holds
                }
                return bytes.array();
            }
        }
    };
}
