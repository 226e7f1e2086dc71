package io.gpt2cls.dataset;

import java.io.BufferedInputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads a dataset file row by row, streaming: memory holds a row (or a Parquet row group), never the
 * file. The name's extension picks the format: {@code .jsonl}/{@code .json} (JSON Lines), {@code .csv},
 * {@code .tsv} or {@code .parquet}; the text formats may be gzip-compressed ({@code .gz}, or gzip's magic
 * bytes whatever the name).
 */
sealed interface RowReader extends Closeable permits JsonLinesReader, CsvReader, ParquetRowReader {

    /** The next row, or {@code null} at the end of the file. Blank lines are skipped and are no rows. */
    SourceRow next() throws IOException;

    /** The columns a file declares up front (a CSV header, a Parquet schema); JSON Lines declares none. */
    Optional<List<String>> header();

    /** Every column met so far: the header, or each key of the JSON objects read. */
    Collection<String> columns();

    /** Lines (JSON Lines, CSV) or records (Parquet) gone through so far, blank lines included. */
    long position();

    /** {@code columns}: the ones the rows are read for; a Parquet reader reads only these. */
    static RowReader open(InputFile file, List<String> columns) throws IOException {
        return open(PrepareTask.whole(Manifest.TRAIN, 0, file), columns);
    }

    /** The rows of {@code task}'s part of its file, located from the part's start (see {@link PrepareTask}). */
    static RowReader open(PrepareTask task, List<String> columns) throws IOException {
        InputFile file = task.file();
        String name = file.name();
        String lower = name.toLowerCase(Locale.ROOT);
        boolean gzName = lower.endsWith(".gz");
        String format = gzName ? lower.substring(0, lower.length() - ".gz".length()) : lower;
        boolean jsonLines = format.endsWith(".jsonl") || format.endsWith(".json");
        boolean csv = format.endsWith(".csv");
        boolean tsv = format.endsWith(".tsv");
        boolean parquet = format.endsWith(".parquet");
        if (!jsonLines && !csv && !tsv && !parquet) {
            throw new DatasetException("cannot tell the format of " + file.location() + " from its name; name it .jsonl"
                    + " or .json (JSON Lines: one object per line), .csv, .tsv or .parquet (text formats may end in .gz)");
        }
        if (!Files.exists(file.path())) {
            throw new DatasetException("dataset file not found: " + file.location());
        }
        if (!Files.isRegularFile(file.path()) || !Files.isReadable(file.path())) {
            throw new DatasetException("dataset file " + file.location() + " is not a readable file");
        }
        if (Files.size(file.path()) == 0) {
            throw new DatasetException("dataset file " + file.location() + " is empty");
        }
        boolean gzip = GzipInput.isGzip(file.path());
        if (gzName && !gzip) {
            throw new DatasetException(file.location() + " is named .gz but is not gzip-compressed (it does not start with"
                    + " gzip's bytes 1f 8b); compress it with gzip, or drop .gz from its name");
        }
        if (parquet) {
            if (gzip) {
                throw new DatasetException(file.location() + " is a gzip-compressed Parquet file; Parquet compresses its"
                        + " pages itself, so upload the .parquet file as it is");
            }
            return new ParquetRowReader(file, columns, ParquetRowReader.MAX_ROW_GROUP_BYTES, task.from(), task.to());
        }
        if (!task.isWhole() && (gzip || !jsonLines)) {
            throw new IllegalArgumentException(task + ": only uncompressed JSON Lines and Parquet files are read in ranges");
        }
        InputStream bytes = gzip ? GzipInput.open(file.path(), file.location())
                : new BufferedInputStream(task.isWhole() ? Files.newInputStream(file.path())
                        : LineRange.open(file.path(), task.from(),
                                task.to() == PrepareTask.WHOLE ? Long.MAX_VALUE : task.to()), 64 * 1024);
        TextInput text = new TextInput(bytes);
        try {
            return jsonLines ? new JsonLinesReader(file, text) : new CsvReader(file, text, tsv ? '\t' : ',');
        } catch (RuntimeException | IOException e) {
            text.close();
            throw e;
        }
    }
}
