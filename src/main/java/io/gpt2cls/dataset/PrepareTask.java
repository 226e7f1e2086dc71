package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

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
        List<PrepareTask> tasks = new ArrayList<>();
        plan(tasks, Manifest.TRAIN, spec.trainFiles, spec.taskBytes);
        if (spec.hasTestFiles()) {
            plan(tasks, Manifest.TEST, spec.testFiles, spec.taskBytes);
        }
        return tasks;
    }

    private static void plan(List<PrepareTask> tasks, String input, List<InputFile> files, long taskBytes) throws IOException {
        for (int i = 0; i < files.size(); i++) {
            InputFile file = files.get(i);
            Path path = file.path();
            long size = Files.isRegularFile(path) ? Files.size(path) : 0;
            String name = file.name().toLowerCase(Locale.ROOT);
            if (size > taskBytes && (name.endsWith(".jsonl") || name.endsWith(".json")) && !GzipInput.isGzip(path)) {
                for (long from = 0; from < size; from += taskBytes) {
                    tasks.add(new PrepareTask(input, i, file, from, from + taskBytes >= size ? WHOLE : from + taskBytes));
                }
            } else if (size > taskBytes && name.endsWith(".parquet")) {
                tasks.addAll(rowGroupRanges(input, i, file, taskBytes));
            } else {
                tasks.add(whole(input, i, file));
            }
        }
    }

    /** Runs of whole row groups of about {@code taskBytes} each; the whole file when it cannot be listed (its task reports why). */
    private static List<PrepareTask> rowGroupRanges(String input, int fileIndex, InputFile file, long taskBytes) {
        long[] groups;
        try {
            groups = ParquetRowReader.rowGroupBytes(file.path());
        } catch (IOException | RuntimeException e) {
            return List.of(whole(input, fileIndex, file));
        }
        List<PrepareTask> ranges = new ArrayList<>();
        int start = 0;
        long bytes = 0;
        for (int g = 0; g < groups.length; g++) {
            bytes += groups[g];
            if (bytes >= taskBytes && g + 1 < groups.length) {
                ranges.add(new PrepareTask(input, fileIndex, file, start, g + 1));
                start = g + 1;
                bytes = 0;
            }
        }
        ranges.add(new PrepareTask(input, fileIndex, file, start, WHOLE));
        return ranges;
    }

    @Override
    public String toString() {
        return isWhole() ? file.location() : file.location() + " [" + from + ", " + to + ")";
    }
}
