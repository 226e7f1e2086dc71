package io.gpt2cls.storage;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;

/** The embedded default: locations are local paths or {@code file:} URIs; nothing is copied. */
public final class LocalStore implements ArtifactStore {

    @Override
    public Path fetch(String location) throws IOException {
        Path path = toPath(location);
        if (!Files.exists(path)) {
            throw new NoSuchFileException(path.toString(), null, "nothing at location '" + location + "'");
        }
        return path;
    }

    @Override
    public Path workDir(String location) throws IOException {
        Path path = toPath(location);
        Files.createDirectories(path.getParent());
        return path;
    }

    @Override
    public void publish(Path workDir, String location) {
        // written in place already
    }

    static Path toPath(String location) {
        if (location == null || location.isBlank()) {
            throw new IllegalArgumentException("a location is required (a path or a file: URI)");
        }
        if (location.startsWith("file:")) {
            return Path.of(URI.create(location)).toAbsolutePath();
        }
        if (location.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            throw new IllegalArgumentException("location '" + location + "' needs a remote store; the local store reads paths and file: URIs");
        }
        return Path.of(location).toAbsolutePath();
    }
}
