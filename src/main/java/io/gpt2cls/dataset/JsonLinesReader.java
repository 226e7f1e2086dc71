package io.gpt2cls.dataset;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/** JSON Lines: one JSON value per line, located by line number. */
final class JsonLinesReader implements RowReader {

    /** A repeated key is a mistake in the file, not a row to guess at. */
    private static final ObjectMapper JSON = new ObjectMapper().enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);

    private final Path file;
    private final String fileName;
    private final BufferedReader lines;
    private final Set<String> columns = new LinkedHashSet<>();
    private long lineNumber;

    JsonLinesReader(Path file, BufferedReader lines) {
        this.file = file;
        this.fileName = file.getFileName().toString();
        this.lines = lines;
    }

    @Override
    public SourceRow next() throws IOException {
        String line;
        do {
            line = readLine();
            if (line == null) {
                return null;
            }
        } while (line.isBlank());
        RowLocation location = RowLocation.ofLine(fileName, lineNumber);
        JsonNode value;
        try (JsonParser parser = JSON.createParser(line)) {
            value = JSON.readTree(parser);
            if (parser.nextToken() != null) {
                return SourceRow.unreadable(location, "more than one JSON value on the line; the second starts at column "
                        + parser.currentTokenLocation().getColumnNr());
            }
        } catch (JsonProcessingException e) {
            return SourceRow.unreadable(location,
                    "invalid JSON at column " + e.getLocation().getColumnNr() + ": " + e.getOriginalMessage());
        }
        for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
            columns.add(names.next());
        }
        return SourceRow.parsed(location, value);
    }

    private String readLine() throws IOException {
        try {
            String line = lines.readLine();
            lineNumber++;
            return line;
        } catch (CharacterCodingException e) {
            throw RowReader.notUtf8(file);
        }
    }

    @Override
    public Optional<List<String>> header() {
        return Optional.empty();
    }

    @Override
    public Collection<String> columns() {
        return columns;
    }

    @Override
    public void close() throws IOException {
        lines.close();
    }
}
