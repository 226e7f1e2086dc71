package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * One input file's account: every row read ends up either accepted or among its rejections, so
 * {@code accepted + rejections == rowsRead} holds once its rows are tokenized, and stays true when an
 * accepted row is dropped later (a leaked test row becomes a rejection).
 */
final class SourceFile {

    final InputFile file;
    /** The input the file belongs to: {@link Manifest#TRAIN} or {@link Manifest#TEST}. */
    final String input;
    long rowsRead;
    long accepted;
    private final List<Rejection> rejections = new ArrayList<>();

    SourceFile(InputFile file, String input) {
        this.file = file;
        this.input = input;
    }

    /** The location rows and messages name. */
    String name() {
        return file.location();
    }

    void reject(RowLocation location, String reason, String text) {
        rejections.add(new Rejection(location, reason, Rejection.preview(text)));
    }

    /** An accepted row that is left out after all (a leaked test row): it moves to the rejections. */
    void drop(Example example, String reason) {
        accepted--;
        rejections.add(new Rejection(example.location(), reason, example.preview()));
    }

    /** In file order, whichever stage rejected each row. */
    List<Rejection> rejections() {
        rejections.sort(Comparator.comparingLong(rejection -> rejection.location().order()));
        return rejections;
    }

    Manifest.Source toManifest() throws IOException {
        return new Manifest.Source(file.location(), input, sha256(), rowsRead, accepted, rejections.size());
    }

    /** Of the file's bytes as stored (compressed, if it is). */
    private String sha256() throws IOException {
        MessageDigest digest = TextKey.sha256();
        try (InputStream in = new DigestInputStream(Files.newInputStream(file.path()), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
