package io.gpt2cls.storage;

import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Where an artifact lives, parsed once from what the user wrote: a local path, a {@code file:} URI,
 * or {@code s3://bucket/key}. {@link #toString()} gives it back in the user's form, so artifacts
 * record locations that stay true when the output moves between machines.
 */
public final class Location {

    public enum Scheme { LOCAL, S3 }

    private final Scheme scheme;
    private final String bucket;
    /** S3: the key without a trailing slash ("" for the bucket root). Local: unused. */
    private final String key;
    /** LOCAL: the absolute, normalised path. */
    private final Path path;
    private final String text;

    private Location(Scheme scheme, String bucket, String key, Path path, String text) {
        this.scheme = scheme;
        this.bucket = bucket;
        this.key = key;
        this.path = path;
        this.text = text;
    }

    /** Parses a location; the message of a bad one says which forms are accepted. */
    public static Location parse(String location) {
        if (location == null || location.isBlank()) {
            throw new StorageException("a location is required: a local path, a file: URI or s3://bucket/prefix");
        }
        String trimmed = location.strip();
        if (trimmed.startsWith("s3://")) {
            String rest = trimmed.substring("s3://".length());
            int slash = rest.indexOf('/');
            String bucket = slash < 0 ? rest : rest.substring(0, slash);
            String key = slash < 0 ? "" : stripSlashes(rest.substring(slash + 1));
            if (!bucket.matches("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")) {
                throw new StorageException("location '" + location + "' does not name a valid S3 bucket ('" + bucket
                        + "'); write s3://bucket/prefix with a bucket name of 3-63 lowercase letters, digits, '.' and '-'");
            }
            if (key.contains("//")) {
                throw new StorageException("location '" + location + "' has an empty path segment ('//')");
            }
            for (String segment : key.split("/")) {
                if (segment.equals(".") || segment.equals("..")) {
                    // S3 keeps "a/../b" as a key of its own, but every other tool (the CLI, sync, a file system) reads it as b
                    throw new StorageException("location '" + location + "' has a '" + segment + "' path segment; S3 keys with"
                            + " '.' or '..' segments are refused (they mean another object to most tools); write the key without them");
                }
            }
            return new Location(Scheme.S3, bucket, key, null, "s3://" + bucket + (key.isEmpty() ? "" : "/" + key));
        }
        if (trimmed.startsWith("file:")) {
            try {
                Path path = Path.of(new URI(trimmed)).toAbsolutePath().normalize();
                return new Location(Scheme.LOCAL, null, null, path, trimmed);
            } catch (URISyntaxException | IllegalArgumentException e) { // InvalidPathException is one too
                throw new StorageException("location '" + location + "' is not a valid file: URI (write file:///absolute/path)");
            }
        }
        if (trimmed.matches("^[a-zA-Z][a-zA-Z0-9+.-]*://.*")) {
            throw new StorageException("location '" + location + "' has an unsupported scheme; use a local path, a file: URI"
                    + " or s3://bucket/prefix");
        }
        try {
            return new Location(Scheme.LOCAL, null, null, Path.of(trimmed).toAbsolutePath().normalize(), location);
        } catch (InvalidPathException e) {
            throw new StorageException("location '" + location + "' is not a valid path: " + e.getReason());
        }
    }

    public static Location of(Path path) {
        return new Location(Scheme.LOCAL, null, null, path.toAbsolutePath().normalize(), path.toString());
    }

    public Scheme scheme() {
        return scheme;
    }

    public boolean isLocal() {
        return scheme == Scheme.LOCAL;
    }

    /** The local path; only for local locations. */
    public Path path() {
        requireScheme(Scheme.LOCAL);
        return path;
    }

    public String bucket() {
        requireScheme(Scheme.S3);
        return bucket;
    }

    /** The object key (S3), without a trailing slash. */
    public String key() {
        requireScheme(Scheme.S3);
        return key;
    }

    /** The key prefix under which this location's children live: {@code key + "/"}, or "" at the bucket root. */
    public String keyPrefix() {
        requireScheme(Scheme.S3);
        return key.isEmpty() ? "" : key + "/";
    }

    /** A child: {@code name} may hold several '/'-separated segments, none of them empty, "." or "..". */
    public Location resolve(String name) {
        String child = stripSlashes(name);
        for (String segment : child.split("/")) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new StorageException("'" + name + "' is not a relative name inside " + this);
            }
        }
        if (scheme == Scheme.S3) {
            String childKey = key.isEmpty() ? child : key + "/" + child;
            return new Location(Scheme.S3, bucket, childKey, null, "s3://" + bucket + "/" + childKey);
        }
        String separator = text.endsWith("/") ? "" : "/";
        return new Location(Scheme.LOCAL, null, null, path.resolve(child).normalize(), text + separator + child);
    }

    /** The last segment: a file or directory name. */
    public String name() {
        if (scheme == Scheme.S3) {
            return key.substring(key.lastIndexOf('/') + 1);
        }
        Path file = path.getFileName();
        return file == null ? "" : file.toString();
    }

    /** The location this one lies directly in; a bucket root or file system root is its own parent. */
    public Location parent() {
        if (scheme == Scheme.S3) {
            int slash = key.lastIndexOf('/');
            String parentKey = slash < 0 ? "" : key.substring(0, slash);
            return new Location(Scheme.S3, bucket, parentKey, null, "s3://" + bucket + (parentKey.isEmpty() ? "" : "/" + parentKey));
        }
        Path parent = path.getParent() == null ? path : path.getParent();
        String suffix = "/" + name();
        String parentText = text.endsWith(suffix) && text.length() > suffix.length()
                ? text.substring(0, text.length() - suffix.length()) : parent.toString();
        return new Location(Scheme.LOCAL, null, null, parent, parentText);
    }

    /** Whether {@code other} is this location or lies below it. */
    public boolean contains(Location other) {
        if (scheme != other.scheme) {
            return false;
        }
        if (scheme == Scheme.LOCAL) {
            return other.path.startsWith(path);
        }
        return bucket.equals(other.bucket) && (key.isEmpty() || other.key.equals(key) || other.key.startsWith(key + "/"));
    }

    /** The location as the user wrote it (a path stays relative if it was given relative). */
    @Override
    public String toString() {
        return text;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Location other && scheme == other.scheme && Objects.equals(bucket, other.bucket)
                && Objects.equals(key, other.key) && Objects.equals(path, other.path);
    }

    @Override
    public int hashCode() {
        return Objects.hash(scheme, bucket, key, path);
    }

    private void requireScheme(Scheme expected) {
        if (scheme != expected) {
            throw new IllegalStateException(this + " is not a " + expected + " location");
        }
    }

    private static String stripSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }
}
