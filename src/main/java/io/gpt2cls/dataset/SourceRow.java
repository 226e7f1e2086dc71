package io.gpt2cls.dataset;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * One row as a reader found it, before validation: its parsed value (a JSON Lines line's value, a
 * CSV record as an object of strings), or, when it could not be parsed, why.
 */
record SourceRow(RowLocation location, JsonNode value, String unreadable) {

    static SourceRow parsed(RowLocation location, JsonNode value) {
        return new SourceRow(location, value, null);
    }

    static SourceRow unreadable(RowLocation location, String reason) {
        return new SourceRow(location, null, reason);
    }
}
