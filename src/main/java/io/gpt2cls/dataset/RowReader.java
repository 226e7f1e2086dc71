package io.gpt2cls.dataset;

import java.io.BufferedInputStream;
import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.Closeable;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
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
            return jsonLines ? new JsonLinesReader(file, text) : new CsvReader(file, text, tsv ? '\t' : ',');
        } catch (RuntimeException | IOException e) {
            text.close();
            throw e;
        }
    }

    /** UTF-8, with a leading byte order mark (as spreadsheet programs write) dropped so it is not part of the first column's name. */
    private static BufferedReader openUtf8(Path file) throws IOException {
        BufferedReader reader = Files.newBufferedReader(file, StandardCharsets.UTF_8);
        try {
            reader.mark(1);
            if (reader.read() != '\uFEFF') {
                reader.reset();
            }
        } catch (CharacterCodingException e) {
            reader.close();
            throw notUtf8(file);
        }
        return reader;
    }

    /** The decoder reads ahead in blocks, so the failing line is found by decoding the file again line by line. */
    static DatasetException notUtf8(Path file) {
        String where;
        try {
            where = "line " + firstNonUtf8Line(file) + " holds bytes that are not UTF-8";
        } catch (IOException e) {
            where = "it holds bytes that are not UTF-8";
        }
        return new DatasetException(file.getFileName() + " is not UTF-8 text: " + where + "; save it as UTF-8");
    }

    private static long firstNonUtf8Line(Path file) throws IOException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder();
        try (InputStream in = new BufferedInputStream(Files.newInputStream(file))) {
            ByteArrayOutputStream line = new ByteArrayOutputStream();
            long number = 1;
            for (int b = in.read(); ; b = in.read()) {
                if (b != '\n' && b >= 0) {
                    line.write(b);
                    continue;
                }
                try {
                    decoder.decode(ByteBuffer.wrap(line.toByteArray()));
                } catch (CharacterCodingException e) {
                    return number;
                }
                if (b < 0) {
                    return number;
                }
                line.reset();
                number++;
            }
        }
    }
}
