package io.gpt2cls.function;

import java.nio.file.Path;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.PrepareTask;
import io.gpt2cls.storage.ArtifactStore;

/**
 * One item of a distributed prepare's plan (a {@link PrepareTask}, as the Distributed Map hands it to
 * a map task): a whole input file, or a range of it, of the file version that was planned.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PlannedTask {
    /** {@code train} or {@code test}. */
    public String input;
    /** The file's place among its input's files. */
    public Integer fileIndex;
    /** The file's location. */
    public String file;
    /** Where the range starts: a byte (JSON Lines) or a row group (Parquet); 0 for a whole file. */
    public Long from;
    /** Where the range ends (excluded); absent: at the end of the file (a whole file, or a file's last range). */
    public Long to;
    /** The file's size and version when it was planned: a range task reads only this version. */
    public Long fileBytes;
    public String fileVersion;

    static PlannedTask of(PrepareTask task, ArtifactStore.FileInfo info) {
        PlannedTask planned = new PlannedTask();
        planned.input = task.input();
        planned.fileIndex = task.fileIndex();
        planned.file = task.file().location();
        planned.from = task.from();
        planned.to = task.to() == PrepareTask.WHOLE ? null : task.to();
        planned.fileBytes = info.bytes();
        planned.fileVersion = info.version();
        return planned;
    }

    /** The task, reading the file's copy at {@code path} (none: the reduce, which reads map results only). */
    PrepareTask task(Path path) {
        return new PrepareTask(input, fileIndex, new InputFile(path, file), from, to == null ? PrepareTask.WHOLE : to);
    }
}
