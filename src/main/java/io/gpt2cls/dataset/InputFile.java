package io.gpt2cls.dataset;

import java.nio.file.Path;

/**
 * One input file: the local copy that is read, and the location the user knows it by (a path, a
 * {@code file:} URI or {@code s3://bucket/key}). Rows, rejections and the manifest name the location,
 * never the copy, which may be a temporary download.
 */
public record InputFile(Path path, String location) {

    /** A local file known by its path. */
    public static InputFile local(Path path) {
        return new InputFile(path, path.toString());
    }

    /** The last segment of the location: the file name, which tells the format. */
    String name() {
        String trimmed = location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
        return trimmed.substring(trimmed.lastIndexOf('/') + 1);
    }
}
