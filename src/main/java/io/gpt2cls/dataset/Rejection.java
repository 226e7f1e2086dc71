package io.gpt2cls.dataset;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;

/** A row left out of the dataset, why, and the start of its text when it had one: one line of {@code rejected.jsonl}. */
@JsonInclude(JsonInclude.Include.NON_NULL)
@JsonPropertyOrder({"file", "record", "line", "reason", "text_preview"})
public record Rejection(@JsonIgnore RowLocation location, String reason,
        @JsonProperty("text_preview") String textPreview) {

    static final int PREVIEW_CHARS = 80;

    @JsonProperty("file")
    public String file() {
        return location.file();
    }

    /** A CSV or Parquet record's number; {@code null} for JSON Lines. */
    @JsonProperty("record")
    public Long record() {
        return location.record();
    }

    /** {@code null} for Parquet. */
    @JsonProperty("line")
    public Long line() {
        return location.line();
    }

    static String preview(String text) {
        if (text == null || text.length() <= PREVIEW_CHARS) {
            return text;
        }
        // never cut a surrogate pair in half: the report must stay valid UTF-8
        int end = Character.isHighSurrogate(text.charAt(PREVIEW_CHARS - 1)) ? PREVIEW_CHARS - 1 : PREVIEW_CHARS;
        return text.substring(0, end);
    }

    @Override
    public String toString() {
        return location + ": " + reason;
    }
}
