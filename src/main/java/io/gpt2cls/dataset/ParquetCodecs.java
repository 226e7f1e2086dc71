package io.gpt2cls.dataset;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.EnumSet;
import java.util.Set;
import java.util.zip.GZIPInputStream;

import org.apache.parquet.bytes.BytesInput;
import org.apache.parquet.compression.CompressionCodecFactory;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;

import io.airlift.compress.Decompressor;
import io.airlift.compress.MalformedInputException;
import io.airlift.compress.lz4.Lz4Decompressor;
import io.airlift.compress.snappy.SnappyDecompressor;
import io.airlift.compress.zstd.ZstdDecompressor;

/**
 * Decompresses Parquet pages in plain Java: snappy, zstd and LZ4 by aircompressor, gzip by
 * java.util.zip. parquet-hadoop's own codec factory goes through Hadoop's codec classes (and the
 * native snappy and zstd jars); this one needs neither. One instance per file reader: the
 * decompressors keep state and are not shared between threads.
 */
final class ParquetCodecs implements CompressionCodecFactory {

    /** Snappy is what pyarrow (and so Hugging Face datasets) writes by default; zstd and gzip are common too. */
    static final Set<CompressionCodecName> READABLE = EnumSet.of(CompressionCodecName.UNCOMPRESSED,
            CompressionCodecName.SNAPPY, CompressionCodecName.ZSTD, CompressionCodecName.GZIP, CompressionCodecName.LZ4_RAW);
    /**
     * Largest page decompressed. pyarrow and Spark write 1 MB pages (and 1 MB dictionary pages); a page
     * holding one text at its limit of 1M characters is at most 4 MB.
     */
    static final int MAX_PAGE_BYTES = 64 * 1024 * 1024;

    @Override
    public BytesInputDecompressor getDecompressor(CompressionCodecName codec) {
        if (!READABLE.contains(codec)) {
            throw new IllegalArgumentException("no decompressor for " + codec); // the reader checks codecs up front
        }
        return new PageDecompressor(codec);
    }

    @Override
    public BytesInputCompressor getCompressor(CompressionCodecName codec) {
        throw new UnsupportedOperationException("prepare reads Parquet files, it does not write them");
    }

    @Override
    public void release() {
        // nothing pooled
    }

    private static final class PageDecompressor implements BytesInputDecompressor {

        private final CompressionCodecName codec;
        private final Decompressor decompressor;

        PageDecompressor(CompressionCodecName codec) {
            this.codec = codec;
            this.decompressor = switch (codec) {
                case SNAPPY -> new SnappyDecompressor();
                case ZSTD -> new ZstdDecompressor();
                case LZ4_RAW -> new Lz4Decompressor();
                default -> null;
            };
        }

        @Override
        public BytesInput decompress(BytesInput compressed, int uncompressedSize) throws IOException {
            if (codec == CompressionCodecName.UNCOMPRESSED) {
                return compressed;
            }
            if (uncompressedSize < 0 || uncompressedSize > MAX_PAGE_BYTES) {
                // the size comes from the page header, before any byte is decompressed: a crafted one asks for gigabytes
                throw new IOException("a page's header says it decompresses to " + uncompressedSize + " bytes; the limit"
                        + " is " + MAX_PAGE_BYTES + " (writers use about 1 MB)");
            }
            byte[] in = compressed.toByteArray();
            byte[] out = new byte[uncompressedSize];
            int n;
            try {
                n = decompressor != null
                        ? decompressor.decompress(in, 0, in.length, out, 0, out.length)
                        : gunzip(in, out);
            } catch (MalformedInputException e) {
                throw new IOException("a " + codec + " page does not decompress: " + e.getMessage(), e);
            }
            if (n != uncompressedSize) {
                throw new IOException("a " + codec + " page decompresses to " + n + " bytes but its header says "
                        + uncompressedSize);
            }
            return BytesInput.from(out);
        }

        @Override
        public void decompress(ByteBuffer input, int compressedSize, ByteBuffer output, int uncompressedSize)
                throws IOException {
            ByteBuffer compressed = input.slice();
            compressed.limit(compressedSize);
            output.put(decompress(BytesInput.from(compressed), uncompressedSize).toByteBuffer());
        }

        private static int gunzip(byte[] in, byte[] out) throws IOException {
            try (InputStream gzip = new GZIPInputStream(new ByteArrayInputStream(in))) {
                return gzip.readNBytes(out, 0, out.length);
            }
        }

        @Override
        public void release() {
            // nothing pooled
        }
    }
}
