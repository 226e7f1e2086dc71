package io.gpt2cls.dataset;

import java.io.IOException;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * JSON Lines: one JSON value per line, located by line number. Each line is parsed straight from
 * the file under {@link #LIMITS}, so a line never has to fit in memory: one that breaks a limit, is not
 * JSON or holds bytes that are not UTF-8 is a rejected row, and the next line is read as usual.
 */
final class JsonLinesReader implements RowReader {

    /** Longest line read, in characters: a text at its limit plus room for other columns and escapes. */
    static final int MAX_LINE_CHARS = 10_000_000;
    static final int MAX_NESTING_DEPTH = 1_000;
    static final int MAX_NUMBER_DIGITS = 1_000;
    static final int MAX_KEY_CHARS = 50_000;

    /** What one line may hold; the row's reason names the limit it broke. */
    static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxDocumentLength(MAX_LINE_CHARS)
            .maxStringLength(RowValidator.MAX_TEXT_CHARS)
            .maxNestingDepth(MAX_NESTING_DEPTH)
            .maxNumberLength(MAX_NUMBER_DIGITS)
            .maxNameLength(MAX_KEY_CHARS)
            .build();

    /** A repeated key is a mistake in the file, not a row to guess at. */
    private static final ObjectMapper JSON = new ObjectMapper(JsonFactory.builder()
            .streamReadConstraints(LIMITS)
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .build());

    private final String location;
    private final TextInput text;
    private final Set<String> columns = new LinkedHashSet<>();
    private long lineNumber;

    JsonLinesReader(InputFile file, TextInput text) {
        this.location = file.location();
        this.text = text;
    }

    @Override
    public SourceRow next() throws IOException {
        while (text.nextLine()) {
            lineNumber++;
            RowLocation where = RowLocation.ofLine(location, lineNumber);
            JsonNode value = null;
            String problem = null;
            JsonParser parser = JSON.createParser(text.line());
            try {
                value = JSON.readTree(parser);
                if (value != null && parser.nextToken() != null) {
                    problem = "more than one JSON value on the line; the second starts at column "
                            + parser.currentTokenLocation().getColumnNr();
                }
            } catch (StreamConstraintsException e) {
                problem = overLimit(e) + " (at column " + column(e, parser) + ")";
            } catch (JsonProcessingException e) {
                problem = "invalid JSON at column " + column(e, parser) + ": " + e.getOriginalMessage();
            } finally {
                parser.close();
            }
            boolean blank = (value == null || value.isMissingNode()) && problem == null;
            text.finishLine(); // a parser that stopped at an error leaves the rest of the line
            if (text.firstMalformedLine(lineNumber, lineNumber) > 0) {
                return SourceRow.unreadable(where, "the line holds bytes that are not UTF-8; save the file as UTF-8");
            }
            if (blank) {
                continue;
            }
            if (problem != null) {
                return SourceRow.unreadable(where, problem);
            }
            for (Iterator<String> names = value.fieldNames(); names.hasNext(); ) {
                columns.add(names.next());
            }
            return SourceRow.parsed(where, value);
        }
        return null;
    }

    private static long column(JsonProcessingException e, JsonParser parser) {
        JsonLocation location = e.getLocation() != null ? e.getLocation() : parser.currentLocation();
        return location.getColumnNr();
    }

    /** Which of {@link #LIMITS} the line broke, in words; Jackson's message names its getter. */
    private static String overLimit(StreamConstraintsException e) {
        String message = e.getOriginalMessage();
        if (message.contains("getMaxStringLength")) {
            return "a string is longer than " + LIMITS.getMaxStringLength() + " characters, the limit for a text";
        }
        if (message.contains("getMaxDocumentLength")) {
            return "the line is longer than " + LIMITS.getMaxDocumentLength() + " characters, the limit for a line";
        }
        if (message.contains("getMaxNestingDepth")) {
            return "values are nested deeper than " + LIMITS.getMaxNestingDepth() + " levels, the limit for a line";
        }
        if (message.contains("getMaxNumberLength")) {
            return "a number is longer than " + LIMITS.getMaxNumberLength() + " characters, the limit for a number";
        }
        if (message.contains("getMaxNameLength")) {
            return "a key is longer than " + LIMITS.getMaxNameLength() + " characters, the limit for a key";
        }
        return "the line breaks a limit of the JSON reader: " + message;
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
    public long position() {
        return lineNumber;
    }

    @Override
    public void close() throws IOException {
        text.close();
    }
}
