package io.gpt2cls.dataset;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
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
 * quotes. Each record is located by its number and the line it starts on.
 */
final class CsvReader implements RowReader {

    private final Path file;
    private final String fileName;
    private final CSVParser parser;
    private final Iterator<CSVRecord> records;
    private final List<String> header;
    private long recordNumber;
    /** Line breaks consumed up to the end of the previous record: the next record starts on the line after. */
    private long linesBefore;

    CsvReader(Path file, BufferedReader text, char delimiter) throws IOException {
        this.file = file;
        this.fileName = file.getFileName().toString();
        // Blank lines come back as empty records rather than being skipped inside the parser: only
        // then does every record start right after the previous one, which gives its line number.
        CSVFormat format = CSVFormat.DEFAULT.builder()
                .setDelimiter(delimiter)
                .setHeader()
                .setSkipHeaderRecord(true)
                .setIgnoreEmptyLines(false)
                .setDuplicateHeaderMode(DuplicateHeaderMode.DISALLOW)
                .get();
        try {
            this.parser = format.parse(text);
        } catch (CharacterCodingException e) {
            throw RowReader.notUtf8(file);
        } catch (IOException | IllegalArgumentException e) {
            throw new DatasetException(fileName + " has an unusable header row: " + e.getMessage());
        }
        this.header = parser.getHeaderNames();
        if (header.isEmpty()) {
            throw new DatasetException(fileName + " has no header row; its first line must name the columns");
        }
        this.records = parser.iterator();
        this.linesBefore = parser.getCurrentLineNumber();
    }

    @Override
    public SourceRow next() {
        while (hasNextRecord()) {
            CSVRecord record = records.next();
            long startLine = linesBefore + 1;
            linesBefore = parser.getCurrentLineNumber();
            if (record.size() == 1 && record.get(0).isEmpty()) {
                continue; // a blank line
            }
            RowLocation location = RowLocation.ofRecord(fileName, ++recordNumber, startLine);
            if (record.size() != header.size()) {
                return SourceRow.unreadable(location, "record has " + record.size() + " field(s) but the header has "
                        + header.size() + "; quote fields that contain the delimiter");
            }
            ObjectNode fields = JsonNodeFactory.instance.objectNode();
            for (int i = 0; i < header.size(); i++) {
                fields.put(header.get(i), record.get(i));
            }
            return SourceRow.parsed(location, fields);
        }
        return null;
    }

    /** The parser can't skip past broken quoting, so a malformed file stops the job, naming the line. */
    private boolean hasNextRecord() {
        try {
            return records.hasNext();
        } catch (UncheckedIOException e) {
            if (e.getCause() instanceof CharacterCodingException) {
                throw RowReader.notUtf8(file);
            }
            throw new DatasetException(fileName + " is not valid CSV after record " + recordNumber
                    + ": " + e.getCause().getMessage());
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
    public void close() throws IOException {
        parser.close();
    }
}
