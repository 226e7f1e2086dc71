package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;

import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.schema.MessageType;

/**
 * One map task of {@code prepare}: a part of one input file that is read, validated and tokenized on
 * its own ({@link DatasetPreparer#map}). A whole file; or, for a large file, a range of it: bytes
 * {@code [from, to)} of an uncompressed JSON Lines file (each line belongs to the range its first byte
 * is in), or row groups {@code [from, to)} of a Parquet file. CSV and gzip-compressed files are always
 * whole: a quoted field may span lines, and a gzip stream cannot be entered in the middle.
 *
 * @param input {@link Manifest#TRAIN} or {@link Manifest#TEST}: the input the file belongs to
 * @param fileIndex the file's place among its input's files; the reduce orders rows by it
 * @param to {@link #WHOLE}: to the end of the file
 */
public record PrepareTask(String input, int fileIndex, InputFile file, long from, long to) {

    public static final long WHOLE = -1;

    public static PrepareTask whole(String input, int fileIndex, InputFile file) {
        return new PrepareTask(input, fileIndex, file, 0, WHOLE);
    }

    /** The whole file, not a range of it ({@code to} is {@link #WHOLE} for a file's last range too). */
    public boolean isWhole() {
        return from == 0 && to == WHOLE;
    }

    /**
     * What the task's result is stored under: its input, its file's name and, for a range, where the
     * range starts. A retried task has the same key and replaces its earlier result whole.
     */
    public String key() {
        return input + "/" + file.name() + (isWhole() ? "" : "@" + from);
    }

    /**
     * The tasks of a prepare: one per input file (train, then test), except that an uncompressed JSON
     * Lines file or a Parquet file larger than {@link PrepareSpec#taskBytes} is cut into ranges of about
     * that size (byte ranges; runs of whole row groups). The last range of a file runs to its end.
     */
    public static List<PrepareTask> plan(PrepareSpec spec) throws IOException {
        return plan(spec.trainFiles, spec.hasTestFiles() ? spec.testFiles : List.of(), spec.taskBytes, InputBytes.LOCAL);
    }

    /**
     * As {@link #plan(PrepareSpec)}, reading of each file only what the cut needs through {@code bytes}:
     * its size, its first bytes (gzip or not) and a Parquet file's footer (its row groups' sizes).
     */
    public static List<PrepareTask> plan(List<InputFile> trainFiles, List<InputFile> testFiles, long taskBytes, InputBytes bytes)
            throws IOException {
        List<PrepareTask> tasks = new ArrayList<>();
        plan(tasks, Manifest.TRAIN, trainFiles, taskBytes, bytes);
        plan(tasks, Manifest.TEST, testFiles, taskBytes, bytes);
        return tasks;
    }

    private static void plan(List<PrepareTask> tasks, String input, List<InputFile> files, long taskBytes, InputBytes bytes)
            throws IOException {
        for (int i = 0; i < files.size(); i++) {
            InputFile file = files.get(i);
            long size = bytes.size(file);
            if (size > taskBytes && isJsonLines(file) && !GzipInput.isGzip(bytes.read(file, 0, GzipInput.MAGIC_BYTES))) {
                for (long from = 0; from < size; from += taskBytes) {
                    tasks.add(new PrepareTask(input, i, file, from, from + taskBytes >= size ? WHOLE : from + taskBytes));
                }
            } else if (size > taskBytes && isParquet(file)) {
                tasks.addAll(rowGroupRanges(input, i, file, taskBytes, bytes));
            } else {
                tasks.add(whole(input, i, file));
            }
        }
    }

    private static boolean isJsonLines(InputFile file) {
        String name = file.name().toLowerCase(Locale.ROOT);
        return name.endsWith(".jsonl") || name.endsWith(".json");
    }

    private static boolean isParquet(InputFile file) {
        return file.name().toLowerCase(Locale.ROOT).endsWith(".parquet");
    }

    /** Runs of whole row groups of about {@code taskBytes} each; the whole file when it cannot be listed (its task reports why). */
    private static List<PrepareTask> rowGroupRanges(String input, int fileIndex, InputFile file, long taskBytes, InputBytes bytes) {
        long[] groups;
        try {
            groups = ParquetRowReader.footer(file, bytes).getBlocks().stream().mapToLong(BlockMetaData::getCompressedSize).toArray();
        } catch (IOException | RuntimeException e) {
            return List.of(whole(input, fileIndex, file));
        }
        List<PrepareTask> ranges = new ArrayList<>();
        int start = 0;
        long sum = 0;
        for (int g = 0; g < groups.length; g++) {
            sum += groups[g];
            if (sum >= taskBytes && g + 1 < groups.length) {
                ranges.add(new PrepareTask(input, fileIndex, file, start, g + 1));
                start = g + 1;
                sum = 0;
            }
        }
        ranges.add(new PrepareTask(input, fileIndex, file, start, WHOLE));
        return ranges;
    }

    /** Bytes first scanned for the end of the line a JSON Lines range ends in; each further scan reads twice as many, up to a MiB. */
    private static final int LINE_END_SCAN = 4 * 1024;
    private static final int LINE_END_SCAN_MAX = 1024 * 1024;

    /**
     * The byte ranges {@code [from, to)} of its file that this range task's reader reads, found through
     * {@code bytes} (a scan for a line end, a Parquet footer), so a task can fetch only these: the
     * file's first bytes (the format check); for JSON Lines, from the byte before the range (is the
     * range's first byte a line start?) through the first line break at or after its last byte (the
     * line it ends in; {@link LineRange}); for Parquet, the footer and, of its row groups, the chunks of
     * the columns read ({@link ParquetRowReader#chunksRead}), no other column's. A whole-file task reads
     * all of its file.
     *
     * @param columns the columns its reader is opened for ({@link PrepareSpec#columnsRead})
     */
    public List<long[]> bytesRead(InputBytes bytes, Collection<String> columns) throws IOException {
        long size = bytes.size(file);
        List<long[]> ranges = new ArrayList<>();
        ranges.add(new long[] {0, Math.min(GzipInput.MAGIC_BYTES, size)});
        if (isWhole()) {
            ranges.add(new long[] {0, size});
        } else if (isParquet(file)) {
            byte[] tail = bytes.read(file, size - FOOTER_TAIL, FOOTER_TAIL); // the footer's length, then "PAR1"
            long footer = ByteBuffer.wrap(tail, 0, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
            ranges.add(new long[] {size - FOOTER_TAIL - footer, size});
            ParquetMetadata metadata = ParquetRowReader.footer(file, bytes);
            MessageType read = ParquetRowReader.projection(metadata.getFileMetaData().getSchema(), columns);
            List<BlockMetaData> groups = metadata.getBlocks();
            for (BlockMetaData group : groups.subList((int) from, to == WHOLE ? groups.size() : (int) to)) {
                for (ColumnChunkMetaData chunk : ParquetRowReader.chunksRead(group, read)) {
                    ranges.add(new long[] {chunk.getStartingPos(), chunk.getStartingPos() + chunk.getTotalSize()});
                }
            }
        } else {
            long end = size;
            if (to != WHOLE) {
                int length = LINE_END_SCAN;
                for (long scan = to - 1; scan < size && end == size; scan += length, length = Math.min(2 * length, LINE_END_SCAN_MAX)) {
                    byte[] chunk = bytes.read(file, scan, length);
                    for (int i = 0; i < chunk.length; i++) {
                        if (chunk[i] == '\n') {
                            end = scan + i + 1;
                            break;
                        }
                    }
                }
            }
            ranges.add(new long[] {Math.max(from - 1, 0), end});
        }
        return ranges;
    }

    /** A Parquet file ends with its footer's length (4 bytes, little-endian) and the magic "PAR1". */
    private static final int FOOTER_TAIL = 8;

    @Override
    public String toString() {
        return isWhole() ? file.location() : file.location() + " [" + from + ", " + to + ")";
    }
}
