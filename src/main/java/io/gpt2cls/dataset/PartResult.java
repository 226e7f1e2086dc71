package io.gpt2cls.dataset;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * What one map task ({@link PrepareTask}) found: its rows' account, the rows it rejected, and every
 * row it tokenized, in file order, located relative to the task's start (line or record 1 is the
 * task's first; {@link #examples(long)} places them in the file). Nothing here depends on other tasks: the
 * label map, the split, duplicates and leakage are the reduce's ({@link DatasetPreparer#reduce}).
 *
 * <p>Stored as a set of two files ({@link #write}): {@value #ROWS} and the small {@value #COMMIT}, its
 * commit object, so a retried task replaces its earlier result whole.
 */
public final class PartResult {

    public static final String COMMIT = "part.json";
    static final String ROWS = "rows.bin";
    private static final String ROWS_FORMAT = "gpt2cls-part/1";
    private static final ObjectMapper JSON = new ObjectMapper();

    final PrepareTask task;
    /** Of the file's bytes as stored, when the task read the whole file; else the reduce computes it. */
    String sha256;
    /** The file has no bytes at all: skipped with a warning, or an error when it is its input's only file. */
    boolean emptyFile;
    /** Whether the file declares its columns up front (CSV, Parquet); JSON Lines does not. */
    boolean header;
    long rowsRead;
    /** Lines (JSON Lines, CSV) or records (Parquet) the task went through: the next range's numbering starts after them. */
    long positions;
    /** Every column met (JSON Lines: each key of the objects read). */
    Set<String> columns = new LinkedHashSet<>();
    final List<Rejection> rejections = new ArrayList<>();
    /** Tokenized rows in file order; one whose text has no tokens has none here, and the reduce rejects it. */
    List<Example> examples = new ArrayList<>();
    long texts;
    long chars;
    long tokens;
    double seconds;

    PartResult(PrepareTask task) {
        this.task = task;
    }

    /**
     * Checksums the whole file from {@code bytes}, streamed (nothing kept): the checksum the manifest
     * records of a file read in ranges, given by its first range's task when the reduce has no local
     * copy of the file to checksum.
     */
    public void checksumFile(InputStream bytes) throws IOException {
        sha256 = Shards.sha256(bytes);
    }

    public PrepareTask task() {
        return task;
    }

    public long rowsRead() {
        return rowsRead;
    }

    /** Rows that are examples so far (the reduce may still reject some: no tokens, an unseen label). */
    public int examples() {
        return examples.size();
    }

    public int rejected() {
        return rejections.size();
    }

    void reject(RowLocation location, String reason, String text) {
        rejections.add(new Rejection(location, reason, Rejection.preview(text)));
    }

    /** The rejections, located in the whole file: {@code offset} lines or records come before the task's range. */
    List<Rejection> rejections(long offset) {
        return offset == 0 ? rejections : rejections.stream()
                .map(r -> new Rejection(r.location().shifted(offset), r.reason(), r.textPreview())).toList();
    }

    /** The rows, located in the whole file as {@link #rejections(long)} are. */
    List<Example> examples(long offset) {
        return offset == 0 ? examples : examples.stream()
                .map(e -> new Example(e.location().shifted(offset), e.label(), e.tokens(), e.textTokens(), e.text(), e.preview()))
                .toList();
    }

    /** {@value #COMMIT}: the task and its account; the rows are in {@value #ROWS}. */
    @JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Summary(String key, String input, int fileIndex, String file, long from, long to, String sha256,
            boolean emptyFile, boolean header, long rowsRead, long positions, List<String> columns, int rejected,
            int examples, long texts, long chars, long tokens, double seconds, String rowsSha256) {}

    /** Writes the result into {@code dir}, {@value #COMMIT} last. */
    public void write(Path dir) throws IOException {
        Path rows = dir.resolve(ROWS);
        try (DataOutputStream out = new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(rows), 1 << 16))) {
            out.writeUTF(ROWS_FORMAT);
            out.writeInt(rejections.size());
            for (Rejection rejection : rejections) {
                writeLocation(out, rejection.location());
                writeString(out, rejection.reason());
                writeString(out, rejection.textPreview());
            }
            out.writeInt(examples.size());
            for (Example example : examples) {
                writeLocation(out, example.location());
                writeString(out, example.label());
                out.writeInt(example.textTokens());
                out.writeLong(example.text().high());
                out.writeLong(example.text().low());
                writeString(out, example.preview());
                out.writeInt(example.tokens().length);
                for (int id : example.tokens()) {
                    out.writeInt(id);
                }
            }
        }
        JSON.writeValue(dir.resolve(COMMIT).toFile(), new Summary(task.key(), task.input(), task.fileIndex(),
                task.file().location(), task.from(), task.to(), sha256, emptyFile, header, rowsRead, positions,
                List.copyOf(columns), rejections.size(), examples.size(), texts, chars, tokens, seconds, Shards.sha256(rows)));
    }

    /** The summary in {@code dir}, without the rows. */
    public static Summary readSummary(Path dir) throws IOException {
        return JSON.readValue(dir.resolve(COMMIT).toFile(), Summary.class);
    }

    /**
     * Reads what {@link #write} wrote for {@code task}, refusing a result of another task or rows that
     * are not the ones its summary was written for.
     */
    public static PartResult read(Path dir, PrepareTask task) throws IOException {
        Summary summary = readSummary(dir);
        if (!summary.key().equals(task.key()) || !summary.file().equals(task.file().location()) || summary.from() != task.from()
                || summary.to() != task.to()) {
            throw new DatasetException("the map result in " + dir + " is for " + summary.file() + " [" + summary.from() + ", "
                    + summary.to() + "), not for " + task + "; run the prepare again");
        }
        Path rows = dir.resolve(ROWS);
        if (!Files.isRegularFile(rows) || !Shards.sha256(rows).equals(summary.rowsSha256())) {
            throw new DatasetException("the map result of " + task + " in " + dir + " is incomplete (" + ROWS
                    + " is missing or differs from the one its summary was written for); run the prepare again");
        }
        PartResult part = new PartResult(task);
        part.sha256 = summary.sha256();
        part.emptyFile = summary.emptyFile();
        part.header = summary.header();
        part.rowsRead = summary.rowsRead();
        part.positions = summary.positions();
        part.columns = new LinkedHashSet<>(summary.columns());
        part.texts = summary.texts();
        part.chars = summary.chars();
        part.tokens = summary.tokens();
        part.seconds = summary.seconds();
        String file = task.file().location();
        try (DataInputStream in = new DataInputStream(new BufferedInputStream(Files.newInputStream(rows), 1 << 16))) {
            String format = in.readUTF();
            if (!format.equals(ROWS_FORMAT)) {
                throw new DatasetException(rows + " has format '" + format + "', not '" + ROWS_FORMAT + "'; run the prepare again");
            }
            for (int n = in.readInt(); n > 0; n--) {
                part.rejections.add(new Rejection(readLocation(in, file), readString(in), readString(in)));
            }
            int count = in.readInt();
            part.examples = new ArrayList<>(count);
            for (int n = 0; n < count; n++) {
                RowLocation location = readLocation(in, file);
                String label = readString(in);
                int textTokens = in.readInt();
                TextKey key = new TextKey(in.readLong(), in.readLong());
                String preview = readString(in);
                int[] tokens = new int[in.readInt()];
                for (int t = 0; t < tokens.length; t++) {
                    tokens[t] = in.readInt();
                }
                part.examples.add(new Example(location, label, tokens, textTokens, key, preview));
            }
        }
        return part;
    }

    private static void writeLocation(DataOutputStream out, RowLocation location) throws IOException {
        out.writeLong(location.record() == null ? -1 : location.record());
        out.writeLong(location.line() == null ? -1 : location.line());
    }

    private static RowLocation readLocation(DataInputStream in, String file) throws IOException {
        long record = in.readLong();
        long line = in.readLong();
        return new RowLocation(file, record < 0 ? null : record, line < 0 ? null : line);
    }

    /** Any length (a label or reason may be longer than writeUTF's 64 KB), {@code null} as -1. */
    private static void writeString(DataOutputStream out, String value) throws IOException {
        if (value == null) {
            out.writeInt(-1);
            return;
        }
        byte[] bytes = value.getBytes(StandardCharsets.UTF_8);
        out.writeInt(bytes.length);
        out.write(bytes);
    }

    private static String readString(DataInputStream in) throws IOException {
        int length = in.readInt();
        return length < 0 ? null : new String(in.readNBytes(length), StandardCharsets.UTF_8);
    }
}
