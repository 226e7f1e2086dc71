package io.gpt2cls.dataset;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/**
 * Where a row came from: a JSON Lines file's line, or a CSV file's record number (data rows from 1,
 * header and blank lines not counted) and the line that record starts on.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"file", "record", "line"})
public record RowLocation(String file, Long record, long line) {

    static RowLocation ofLine(String file, long line) {
        return new RowLocation(file, null, line);
    }

    static RowLocation ofRecord(String file, long record, long line) {
        return new RowLocation(file, record, line);
    }

    @Override
    public String toString() {
        return record == null ? file + " line " + line : file + " record " + record + " (line " + line + ")";
    }
}
