package io.gpt2cls.dataset;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * One input file's account, gathered from its map tasks' results: every row read ends up either
 * accepted or among its rejections, so {@code accepted + rejections == rowsRead}, and stays true when an
 * accepted row is dropped later (a leaked test row becomes a rejection).
 */
final class SourceFile {

    final InputFile file;
    /** The input the file belongs to: {@link Manifest#TRAIN} or {@link Manifest#TEST}. */
    final String input;
    long rowsRead;
    long accepted;
    /** Of the file's bytes as stored (compressed, if it is). */
    String sha256;
    private final List<Rejection> rejections = new ArrayList<>();

    SourceFile(InputFile file, String input) {
        this.file = file;
        this.input = input;
    }

    /** The location rows and messages name. */
    String name() {
        return file.location();
    }

    void reject(Rejection rejection) {
        rejections.add(rejection);
    }

    /** An example that is not accepted after all (no tokens, a label the training input lacks). */
    void reject(Example example, String reason) {
        rejections.add(new Rejection(example.location(), reason, example.preview()));
    }

    /** An accepted row that is left out after all (a leaked test row): it moves to the rejections. */
    void drop(RowLocation row, String textPreview, String reason) {
        accepted--;
        rejections.add(new Rejection(row, reason, textPreview));
    }

    /** In file order, whichever stage rejected each row. */
    List<Rejection> rejections() {
        rejections.sort(Comparator.comparingLong(rejection -> rejection.location().order()));
        return rejections;
    }

    Manifest.Source toManifest() {
        return new Manifest.Source(file.location(), input, sha256, rowsRead, accepted, rejections.size());
    }
}
