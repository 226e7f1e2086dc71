package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Optional;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;
import org.apache.commons.csv.DuplicateHeaderMode;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * CSV (RFC 4180) with a header row; quoted fields may hold delimiters, line breaks and doubled
 * quotes. Each record is located by its number and the line it starts on. A record with bytes that
 * are not UTF-8 is a rejected row; broken quoting stops the file, because the parser cannot tell
 * where the next record starts, and the message names the line where the bad record starts.
 */
final class CsvReader implements RowReader {

    /**
     * Longest record read, in characters (as for a JSON Lines line): beyond it a quote was surely left
     * open. Counted as the parser reads ahead, so the cut comes within a read buffer (8K chars) of it.
     */
    static final int MAX_RECORD_CHARS = JsonLinesReader.MAX_LINE_CHARS;

    private final String location;
    private final TextInput text;
    private final CSVParser parser;
    private final Iterator<CSVRecord> records;
    private final List<String> header;
    private long recordNumber;
    /** Line breaks consumed up to the end of the previous record: the next record starts on the line after. */
    private long linesBefore;

    CsvReader(InputFile file, TextInput text, char delimiter) throws IOException {
        this.location = file.location();
        this.text = text;
        // Blank lines come back as empty records rather than being skipped inside the parser: only
        // then does every record start right after the previous one, which gives its line number.
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setDelimiter(delimiter)
                .setHeader()
                .setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(false)
                .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW)
                .get();
        text.limitCharsPerRow(MAX_RECORD_CHARS);
        try {
            this.parser = format.parse(text);
        } catch (IOException | IllegalArgumentException e) {
            throw new DatasetException(location + " has an unusable header row: " + e.getMessage());
        }
        this.header = parser.getHeaderNames();
        if (header.isEmpty()) {
            throw new DatasetException(location + " has no header row; its first line must name the columns");
        }
        this.linesBefore = parser.getCurrentLineNumber();
        if (text.firstMalformedLine(1, Math.max(1, linesBefore)) > 0) {
            throw new DatasetException(location + ": the header row holds bytes that are not UTF-8; save the file as UTF-8");
        }
        this.records = parser.iterator();
        text.rowEnded();
    }

    @Override
    public SourceRow next() {
        while (hasNextRecord()) {
            CSVRecord record = records.next();
            text.rowEnded();
            long startLine = linesBefore + 1;
            linesBefore = parser.getCurrentLineNumber();
            if (record.size() == 1 && record.get(0).isEmpty()) {
                continue; // a blank line
            }
            RowLocation where = RowLocation.ofRecord(location, ++recordNumber, startLine);
            long malformed = text.firstMalformedLine(startLine, Math.max(startLine, linesBefore));
            if (malformed > 0) {
                return SourceRow.unreadable(where, "line " + malformed + " holds bytes that are not UTF-8; save the file as UTF-8");
            }
            if (record.size() != header.size()) {
                return SourceRow.unreadable(where, "record has " + record.size() + " field(s) but the header has "
                        + header.size() + "; quote fields that contain the delimiter");
            }
            ObjectNode fields = JsonNodeFactory.instance.objectNode();
            for (int i = 0; i < header.size(); i++) {
                fields.put(header.get(i), record.get(i));
            }
            return SourceRow.parsed(where, fields);
        }
        return null;
    }

    /** The parser can't skip past broken quoting, so a malformed file stops the job, naming the line. */
    private boolean hasNextRecord() {
        try {
            return records.hasNext();
        } catch (UncheckedIOException e) {
            long record = recordNumber + 1;
            long line = linesBefore + 1;
            if (e.getCause() instanceof TextInput.RowTooLong) {
                throw new DatasetException(location + ": record " + record + ", which starts on line " + line
                        + ", runs past " + MAX_RECORD_CHARS + " characters; a quote that opens there is probably never"
                        + " closed. Close it, or double each quote inside a quoted field (\"\")");
            }
            String problem = e.getCause().getMessage();
            if (problem != null && problem.contains("EOF reached before encapsulated token finished")) {
                throw new DatasetException(location + ": the quote that opens on line " + line + " (record " + record
                        + ") is never closed, so the rest of the file would be one field. Close it, or double each quote"
                        + " inside a quoted field (\"\")");
            }
            throw new DatasetException(location + " is not valid CSV in record " + record + ", which starts on line "
                    + line + ": " + problem + "; check the quoting there");
        }
    }

    @Override
    public Optional<List<String>> header() {
        return Optional.of(header);
    }

    @Override
    public Collection<String> columns() {
        return header;
    }

    @Override
    public long position() {
        return recordNumber;
    }

    @Override
    public void close() throws IOException {
        parser.close();
    }
}
