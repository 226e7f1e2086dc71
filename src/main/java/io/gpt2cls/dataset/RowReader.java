package io.gpt2cls.dataset;

import java.io.BufferedReader;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** Reads a dataset file row by row; the file's extension picks the format. */
sealed interface RowReader extends Closeable permits JsonLinesReader, CsvReader {

    /** The next row, or {@code null} at the end of the file. Blank lines are skipped and are no rows. */
    SourceRow next() throws IOException;

    /** The columns a file declares up front (a CSV header); JSON Lines declares none. */
    Optional<List<String>> header();

    /** Every column met so far: the header, or each key of the JSON objects read. */
    Collection<String> columns();

    static RowReader open(Path file) throws IOException {
        String name = file.getFileName().toString();
        String lower = name.toLowerCase(Locale.ROOT);
        if (lower.endsWith(".parquet")) {
            throw new DatasetException(name + " is Parquet, which prepare does not read yet (it arrives later);"
                    + " convert it to JSON Lines (.jsonl) or CSV (.csv)");
        }
        boolean jsonLines = lower.endsWith(".jsonl") || lower.endsWith(".json");
        boolean csv = lower.endsWith(".csv");
        boolean tsv = lower.endsWith(".tsv");
        if (!jsonLines && !csv && !tsv) {
            throw new DatasetException("cannot tell the format of " + name + " from its extension;"
                    + " name it .jsonl or .json (JSON Lines: one object per line), .csv or .tsv");
        }
        if (!Files.exists(file)) {
            throw new DatasetException("dataset file not found: " + file);
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new DatasetException("dataset file " + file + " is not a readable file");
        }
        if (Files.size(file) == 0) {
            throw new DatasetException("dataset file " + file + " is empty");
        }
        BufferedReader text = openUtf8(file);
        try {
            return jsonLines ? new JsonLinesReader(name, text) : new CsvReader(name, text, tsv ? '\t' : ',');
        } catch (RuntimeException | IOException e) {
            text.close();
            throw e;
        }
    }

    /** UTF-8, with a leading byte order mark (as spreadsheet programs write) dropped so it is not part of the first column's name. */
    private static BufferedReader openUtf8(Path file) throws IOException {
        BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        reader.mark(1);
        if (reader.read() != '\uFEFF') {
            reader.reset();
        }
        return reader;
    }

    static DatasetException notUtf8(String file, long line) {
        return new DatasetException(file + " is not UTF-8 text (at or after line " + line + "); save it as UTF-8");
    }
}
