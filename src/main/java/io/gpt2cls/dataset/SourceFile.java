package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;

/**
 * One input file's account: every row read ends up either among its examples or among its
 * rejections, so {@code examples + rejections == rowsRead} holds at every stage.
 */
final class SourceFile {

    final Path path;
    final String name;
    long rowsRead;
    final List<Example> examples = new ArrayList<>();
    private final List<Rejection> rejections = new ArrayList<>();

    SourceFile(Path path) {
        this.path = path;
        this.name = path.getFileName().toString();
    }

    void reject(RowLocation location, String reason, String text) {
        rejections.add(new Rejection(location, reason, Rejection.preview(text)));
    }

    /** In file order, whichever stage rejected each row. */
    List<Rejection> rejections() {
        rejections.sort(Comparator.comparingLong(rejection -> rejection.location().line()));
        return rejections;
    }

    Manifest.Source toManifest() throws IOException {
        return new Manifest.Source(path.toString(), sha256(path), rowsRead, examples.size(), rejections.size());
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest;
        try {
            digest = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
        try (InputStream in = new DigestInputStream(Files.newInputStream(file), digest)) {
            in.transferTo(OutputStream.nullOutputStream());
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
