package io.gpt2cls.function;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** What one map task read: its rows' account (before the reduce's own rejections). */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PrepareMapResponse extends FunctionResponse {
    public String file;
    /** The task's range of the file, as planned; absent {@code to}: to its end. */
    public Long from;
    public Long to;
    /** Where the task's result is stored, replaced whole if the task runs again. */
    public String part;
    public Long rowsRead;
    /** Rows tokenized; the reduce may still reject some (no tokens, a label the training input lacks, leakage). */
    public Long examples;
    public Long rejected;
    /** Bytes of the file fetched to read it: all of it for a whole-file task, only what its range needs otherwise. */
    public Long fetchedBytes;
}
