package io.gpt2cls.function;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** What one map task read: its rows' account (before the reduce's own rejections), or why the file is not the input's. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PrepareMapResponse extends FunctionResponse {
    public String file;
    /** Where the task's result is stored, replaced whole if the task runs again. */
    public String part;
    public Long rowsRead;
    /** Rows tokenized; the reduce may still reject some (no tokens, a label the training input lacks, leakage). */
    public Long examples;
    public Long rejected;
    /** Why the listed object is not one of the input's files (a settings file, a file in a sub-prefix). */
    public String skipped;
}
