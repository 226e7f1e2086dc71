package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where the reduce reads the map tasks' results from ({@link DatasetPreparer#reduce}): one task's at a
 * time, each twice, so only one task's rows are in memory at once.
 */
@FunctionalInterface
public interface PartResults {

    PartResult read(PrepareTask task) throws IOException;

    /** Results that {@link PartResult#write} wrote into {@code dir}'s {@link #dirOf} of each task. */
    static PartResults in(Path dir) {
        return task -> PartResult.read(dirOf(dir, task), task);
    }

    /** The directory of {@code task}'s result under {@code dir}: its {@link PrepareTask#key()}. */
    static Path dirOf(Path dir, PrepareTask task) {
        return dir.resolve(task.key());
    }
}
