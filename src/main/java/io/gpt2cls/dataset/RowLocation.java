package io.gpt2cls.dataset;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * Where a row came from, in the file's location as the user gave it: a JSON Lines file's line; a CSV
 * file's record number (data rows from 1, header and blank lines not counted) and the line that record
 * starts on; a Parquet file's record number (rows from 1: row index {@code record - 1} in pandas or
 * Hugging Face {@code datasets}), without a line.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"file", "record", "line"})
public record RowLocation(String file, Long record, Long line) {

    static RowLocation ofLine(String file, long line) {
        return new RowLocation(file, null, line);
    }

    static RowLocation ofRecord(String file, long record, long line) {
        return new RowLocation(file, record, line);
    }

    static RowLocation ofRow(String file, long record) {
        return new RowLocation(file, record, null);
    }

    /**
     * This location {@code offset} lines (JSON Lines) or records (Parquet) further on: where a row
     * read from a range of the file, counting from the range's start, is in the whole file.
     */
    RowLocation shifted(long offset) {
        if (record != null && line != null) {
            throw new IllegalStateException("CSV records are read whole-file only, never from a range");
        }
        return record == null ? ofLine(file, line + offset) : ofRow(file, record + offset);
    }

    /** The row's place in its file, to list rows in file order. */
    long order() {
        return line != null ? line : record;
    }

    @Override
    public String toString() {
        if (record == null) {
            return file + " line " + line;
        }
        if (line == null) {
            return file + " record " + record + " (row index " + (record - 1) + ")";
        }
        return file + " record " + record + " (line " + line + ")";
    }
}
