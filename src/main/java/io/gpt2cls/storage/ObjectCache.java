package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

/**
 * The S3 store's local disk: downloaded objects, the sets made of them, and staged sets.
 *
 * <pre>
 * &lt;root&gt;/objects/&lt;bucket&gt;/&lt;key&gt;/@&lt;etag&gt;/&lt;name&gt;   one download per object version (ETag), under its own name
 * &lt;root&gt;/sets/&lt;bucket&gt;/&lt;key&gt;/@&lt;hash&gt;/            a fetched set: links to its objects; hash of its (name, etag) pairs
 * &lt;root&gt;/staging/&lt;pid&gt;-&lt;start&gt;-&lt;random&gt;/           a set being written by the process pid, started at start
 * </pre>
 *
 * Everything appears by an atomic rename, so a path that exists is complete; a process reuses what
 * any earlier process downloaded. Files handed out are shared: readers must not modify them.
 */
final class ObjectCache {

    private static final Logger LOG = Logger.getLogger(ObjectCache.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern STAGING = Pattern.compile("^(\\d+)-(\\d+)-[0-9a-f]+$");

    private final Path root;

    ObjectCache(Path root) {
        this.root = root.toAbsolutePath().normalize();
    }

    /** Where the object {@code key} with this ETag is (or will be) kept. */
    Path object(String bucket, String key, String etag, String name) {
        return keyDir("objects", bucket, key).resolve("@" + safeEtag(etag)).resolve(name);
    }

    /** A fresh, hidden file next to {@code target} to download into before {@link #install}. */
    Path partFile(Path target) throws IOException {
        Files.createDirectories(target.getParent());
        return target.resolveSibling("." + target.getFileName() + ".part-" + random());
    }

    /** Moves a complete download into place; whoever is second keeps the first one's (identical) file. */
    void install(Path part, Path target) throws IOException {
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * A directory holding the set's files under their names (hard links to the cached objects, copies
     * where links are not possible), the same directory for the same listing.
     *
     * @param etags the set's names and their ETags, as listed
     * @param files the cached object of each name
     */
    Path set(String bucket, String key, SortedMap<String, String> etags, Map<String, Path> files) throws IOException {
        Path dir = keyDir("sets", bucket, key).resolve("@" + version(etags));
        if (holdsAll(dir, etags.keySet())) {
            return dir;
        }
        Files.createDirectories(dir.getParent());
        Path building = dir.resolveSibling(".building-" + random());
        Files.createDirectory(building);
        try {
            for (String name : etags.keySet()) {
                link(files.get(name), building.resolve(name));
            }
            if (Files.isDirectory(dir)) { // incomplete: a file was removed (a /tmp cleaner); replace it
                OwnedFiles.deleteTree(dir);
            }
            Files.move(building, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException built) {
            // another thread or process built the same set meanwhile
        } finally {
            OwnedFiles.deleteTree(building);
        }
        return dir;
    }

    /** Hex digits of a set version: 64 bits, plenty to tell a location's versions apart. */
    static final int VERSION_CHARS = 16;

    /** A set's version: a hash of its names and their ETags, as listed. */
    static String version(SortedMap<String, String> etags) {
        StringBuilder listing = new StringBuilder();
        etags.forEach((name, etag) -> listing.append(name).append('\0').append(etag).append('\n'));
        return sha256(listing.toString()).substring(0, VERSION_CHARS);
    }

    /**
     * Deletes a set directory {@link #set} made, and each cached object that no other set links to
     * (an object a newer version shares, such as an unchanged tokenizer, keeps its file). Anything
     * that is not a set directory of this cache is left alone. Where the file system made copies
     * instead of links, the objects stay.
     */
    void removeSet(Path setDir) throws IOException {
        Path sets = root.resolve("sets");
        Path dir = setDir.toAbsolutePath().normalize();
        if (!dir.startsWith(sets) || !dir.getFileName().toString().startsWith("@") || !Files.isDirectory(dir)) {
            return;
        }
        Path objects = root.resolve("objects").resolve(sets.relativize(dir.getParent()).toString());
        for (String name : visibleFiles(dir)) {
            Path link = dir.resolve(name);
            Path versions = objects.resolve(safeSegment(name)); // <key>/<name>/@<etag>/<name>
            if (!Files.isDirectory(versions)) {
                continue;
            }
            try (Stream<Path> etags = Files.list(versions)) {
                for (Path object : etags.map(etag -> etag.resolve(name)).filter(Files::isRegularFile).toList()) {
                    if (Files.isSameFile(object, link) && (Integer) Files.getAttribute(object, "unix:nlink") <= 2) {
                        Files.delete(object);
                        try {
                            Files.delete(object.getParent()); // its @<etag> directory, unless a download of it is under way
                        } catch (DirectoryNotEmptyException busy) {
                            // another fetch of this version is writing its part file there
                        }
                    }
                }
            }
        }
        OwnedFiles.deleteTree(dir);
        LOG.debugf("removed %s from the cache", dir);
    }

    /** A new, empty staging directory owned by this process. */
    Path newStagingDir() throws IOException {
        Path staging = root.resolve("staging");
        Files.createDirectories(staging);
        return Files.createDirectory(staging.resolve(OwnedFiles.OWNER + "-" + random()));
    }

    /** Deletes staging directories whose process is gone (it died before committing or closing). */
    void removeDeadStaging() {
        Path staging = root.resolve("staging");
        if (!Files.isDirectory(staging)) {
            return;
        }
        try (Stream<Path> entries = Files.list(staging)) {
            for (Path entry : entries.toList()) {
                Matcher owner = STAGING.matcher(entry.getFileName().toString());
                if (owner.matches() && !OwnedFiles.isAlive(Long.parseLong(owner.group(1)), Long.parseLong(owner.group(2)))) {
                    LOG.infof("removing %s, staged by an earlier run that stopped", entry);
                    OwnedFiles.deleteTree(entry);
                }
            }
        } catch (IOException e) {
            LOG.warnf("could not clean up %s: %s", staging, e.getMessage());
        }
    }


    private static boolean holdsAll(Path dir, Iterable<String> names) {
        if (!Files.isDirectory(dir)) {
            return false;
        }
        for (String name : names) {
            if (!Files.isRegularFile(dir.resolve(name))) {
                return false;
            }
        }
        return true;
    }

    private static void link(Path object, Path link) throws IOException {
        try {
            Files.createLink(link, object);
        } catch (UnsupportedOperationException | IOException noLinks) {
            Files.copy(object, link);
        }
    }

    /** {@code <root>/<area>/<bucket>/<key segments>}, each segment made safe as a file name. */
    private Path keyDir(String area, String bucket, String key) {
        Path dir = root.resolve(area).resolve(bucket);
        if (!key.isEmpty()) {
            for (String segment : key.split("/", -1)) {
                dir = dir.resolve(safeSegment(segment));
            }
        }
        return dir;
    }

    /** A key segment as a file name: never ".", "..", empty or "@…" (the cache's own names), never too long. */
    static String safeSegment(String segment) {
        String safe = segment.replace("%", "%25");
        if (safe.isEmpty() || safe.equals(".") || safe.equals("..")) {
            safe = "%" + safe.replace(".", "%2E");
        } else if (safe.startsWith("@")) {
            safe = "%40" + safe.substring(1);
        }
        if (safe.getBytes(StandardCharsets.UTF_8).length > 200) {
            safe = "%" + sha256(segment);
        }
        return safe;
    }

    private static String safeEtag(String etag) {
        return etag.replace("\"", "").replaceAll("[^A-Za-z0-9-]", "_");
    }

    static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String random() {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return HexFormat.of().formatHex(bytes);
    }


    static List<String> visibleFiles(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString())
                    .filter(name -> !name.startsWith("."))
                    .sorted()
                    .toList();
        }
    }
}
