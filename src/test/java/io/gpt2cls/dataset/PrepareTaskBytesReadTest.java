package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.JSON;
import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.function.TestModels;
import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * A range task reads only the bytes {@link PrepareTask#bytesRead} names, which is all a ranged copy of
 * a remote file holds: run on a copy whose every other byte is garbage, each range task gives the
 * result it gives on the file itself.
 */
class PrepareTaskBytesReadTest {

    @TempDir
    Path work;

    @Test
    void aRangeTaskReadsNothingButTheBytesItNames() throws Exception {
        StringBuilder lines = new StringBuilder();
        for (int i = 0; i < 300; i++) {
            // lines of many lengths, one longer than a task (a range that holds no line start)
            String text = i == 100 ? "long ".repeat(400) : "row " + i + " " + "word ".repeat(i % 23);
            lines.append(jsonLine(text, i % 3 == 0 ? "spam" : "ham")).append('\n');
        }
        Path jsonl = Files.writeString(work.resolve("a.jsonl"), lines);
        List<ParquetFixtures.Row> rows = new ArrayList<>();
        for (int i = 0; i < 300; i++) {
            rows.add(new ParquetFixtures.Row("parquet row " + i + " " + "word ".repeat(i % 19), i % 3 == 0 ? "spam" : "ham"));
        }
        Path parquet = ParquetFixtures.write(work.resolve("b.parquet"), ParquetFixtures.schema("binary"),
                CompressionCodecName.SNAPPY, 1024, rows);

        PrepareSpec spec = new PrepareSpec();
        spec.trainFiles = List.of(DatasetFixtures.named(jsonl), DatasetFixtures.named(parquet));
        spec.tokenizer = TestModels.tokenizer();
        spec.maxLength = 16;
        spec.taskBytes = 1500;
        int ranges = 0;
        try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
            for (PrepareTask task : PrepareTask.plan(spec)) {
                if (task.isWhole()) {
                    continue;
                }
                ranges++;
                Path masked = Files.createDirectories(work.resolve("masked-" + ranges)).resolve(task.file().path().getFileName());
                byte[] original = Files.readAllBytes(task.file().path());
                byte[] garbage = new byte[original.length];
                Arrays.fill(garbage, (byte) 'x');
                for (long[] range : task.bytesRead(InputBytes.LOCAL)) {
                    System.arraycopy(original, (int) range[0], garbage, (int) range[0], (int) (range[1] - range[0]));
                }
                Files.write(masked, garbage);
                PrepareTask onMasked = new PrepareTask(task.input(), task.fileIndex(), new InputFile(masked, task.file().location()),
                        task.from(), task.to());
                assertSameResult(DatasetPreparer.map(spec, task, tokenizer), DatasetPreparer.map(spec, onMasked, tokenizer),
                        task.toString());
            }
        }
        assertTrue(ranges > 8, "both files are read in ranges: " + ranges);
    }

    private void assertSameResult(PartResult expected, PartResult actual, String task) throws Exception {
        Path expectedDir = Files.createDirectories(work.resolve("expected"));
        Path actualDir = Files.createDirectories(work.resolve("actual"));
        expected.write(expectedDir);
        actual.write(actualDir);
        ObjectNode expectedSummary = (ObjectNode) JSON.readTree(expectedDir.resolve(PartResult.COMMIT).toFile());
        ObjectNode actualSummary = (ObjectNode) JSON.readTree(actualDir.resolve(PartResult.COMMIT).toFile());
        expectedSummary.remove("seconds");
        actualSummary.remove("seconds");
        assertEquals(expectedSummary, actualSummary, task);
        assertArrayEquals(Files.readAllBytes(expectedDir.resolve(PartResult.ROWS)), Files.readAllBytes(actualDir.resolve(PartResult.ROWS)),
                task);
        for (Path dir : List.of(expectedDir, actualDir)) {
            Files.delete(dir.resolve(PartResult.COMMIT));
            Files.delete(dir.resolve(PartResult.ROWS));
        }
    }
}
