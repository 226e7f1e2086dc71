package io.gpt2cls.storage;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import io.gpt2cls.runtime.Directories;

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
 *
 * <h2>Bounded</h2>
 * The directory holds at most {@code budgetBytes} (each file counted once however many sets link
 * it; staged sets included). Before a download, room is made by deleting the least recently used
 * entries that are not <em>pinned</em>: a file or set this process handed out is pinned until the
 * caller {@link #release}s it (as many times as it was handed out), so nothing in use disappears.
 * When even that is not enough, the download is refused with the numbers and the settings to
 * change, before anything is written: never a full disk. A released entry is deleted at once (a
 * replaced model version or a prepared input is not read again); unpinned entries left by an earlier
 * process are what the budget evicts. The pins are this process's: another process sharing the
 * directory (a CLI beside a server) sees this one's entries as unpinned.
 */
final class ObjectCache {

    private static final Logger LOG = Logger.getLogger(ObjectCache.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    private static final Pattern STAGING = Pattern.compile("^(\\d+)-(\\d+)-[0-9a-f]+$");
    /** {@code .<name>.part-<pid>-<start>-<random>}, a download under way, or {@code .building-...}, a set being linked. */
    private static final Pattern IN_PROGRESS = Pattern.compile("^\\..*(?:\\.part|building)-(?:(\\d+)-(\\d+)-)?[0-9a-f]+$");

    private final Path root;
    private final long budgetBytes;
    /** Files and set directories handed out and not released, with how many times; guarded by {@code this}. */
    private final Map<Path, Integer> pins = new HashMap<>();
    /** Bytes of downloads under way, promised room before they were written; guarded by {@code this}. */
    private long reserved;

    /**
     * @param maxBytes the most the directory may hold; empty: {@code maxShare} of its file system's size
     */
    ObjectCache(Path root, Optional<Long> maxBytes, double maxShare) {
        this.root = root.toAbsolutePath().normalize();
        try {
            Files.createDirectories(this.root);
            this.budgetBytes = maxBytes.orElse((long) (Files.getFileStore(this.root).getTotalSpace() * maxShare));
        } catch (IOException e) {
            throw new StorageException("cannot use " + this.root + " as the S3 cache (setting gpt2cls.store.s3.cache-dir): " + e, e);
        }
        LOG.debugf("S3 cache %s: at most %,d bytes", this.root, budgetBytes);
    }

    /** Where the object {@code key} with this ETag is (or will be) kept. */
    Path object(String bucket, String key, String etag, String name) {
        return keyDir("objects", bucket, key).resolve("@" + safeEtag(etag)).resolve(name);
    }

    /** The cached file at {@code target}, pinned for the caller; null when it is not cached (yet). */
    synchronized Path reuse(Path target) throws IOException {
        if (!Files.isRegularFile(target)) {
            return null;
        }
        pin(target);
        touch(target);
        return target;
    }

    /**
     * Writes the {@code size} bytes of {@code in} into the cache at {@code target}, pinned for the
     * caller. Room is made first (see the class comment); the file appears complete or not at all,
     * by a rename (a second download of the same version, by another thread, puts identical bytes).
     *
     * @throws StorageException when the budget cannot hold {@code size} more bytes
     */
    Path receive(InputStream in, long size, Path target) throws IOException {
        reserve(size, target);
        Path part = null;
        try {
            Files.createDirectories(target.getParent());
            part = target.resolveSibling("." + target.getFileName() + ".part-" + OwnedFiles.OWNER + "-" + random());
            Files.copy(in, part);
            synchronized (this) {
                Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                pin(target);
            }
            return target;
        } finally {
            synchronized (this) {
                reserved -= size;
            }
            if (part != null) {
                Files.deleteIfExists(part);
            }
        }
    }

    /**
     * A directory holding the set's files under their names (hard links to the cached objects, copies
     * where links are not possible), the same directory for the same listing, pinned for the caller.
     *
     * @param etags the set's names and their ETags, as listed
     * @param files the cached object of each name
     */
    synchronized Path set(String bucket, String key, SortedMap<String, String> etags, Map<String, Path> files) throws IOException {
        Path dir = keyDir("sets", bucket, key).resolve("@" + version(etags));
        if (holdsAll(dir, etags.keySet())) {
            pin(dir);
            touch(dir);
            return dir;
        }
        Files.createDirectories(dir.getParent());
        Path building = dir.resolveSibling(".building-" + OwnedFiles.OWNER + "-" + random());
        Files.createDirectory(building);
        try {
            for (String name : etags.keySet()) {
                link(files.get(name), building.resolve(name));
            }
            if (Files.isDirectory(dir)) { // incomplete: a file was removed (a /tmp cleaner); replace it
                Directories.deleteTree(dir);
            }
            Files.move(building, dir, StandardCopyOption.ATOMIC_MOVE);
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException built) {
            // another process built the same set meanwhile
        } finally {
            Directories.deleteTree(building);
        }
        pin(dir);
        return dir;
    }

    /**
     * Says the caller is done with a file or set directory this cache handed out: once no one else
     * holds it, it is deleted (a set with each object no other set links to). Paths outside the
     * cache are left alone.
     */
    synchronized void release(Path path) throws IOException {
        Path entry = path.toAbsolutePath().normalize();
        if (!entry.startsWith(root)) {
            return;
        }
        Integer holders = pins.get(entry);
        if (holders != null && holders > 1) {
            pins.put(entry, holders - 1);
            return;
        }
        pins.remove(entry);
        if (entry.startsWith(root.resolve("sets"))) {
            removeSet(entry);
        } else if (entry.startsWith(root.resolve("objects"))) {
            removeObject(entry);
        }
    }

    private void pin(Path entry) {
        pins.merge(entry, 1, Integer::sum);
    }

    /** Marks an entry used now: evictions go by modification time, oldest first. */
    private static void touch(Path entry) {
        try {
            Files.setLastModifiedTime(entry, FileTime.fromMillis(System.currentTimeMillis()));
        } catch (IOException e) {
            // an entry another process evicted meanwhile: the caller finds out when it reads it
        }
    }

    /** Makes room for {@code size} more bytes, evicting least recently used unpinned entries, and promises it. */
    private synchronized void reserve(long size, Path target) throws IOException {
        while (true) {
            Usage usage = usage();
            long usable = Files.getFileStore(root).getUsableSpace();
            if (usage.bytes() + reserved + size <= budgetBytes && reserved + size <= usable) {
                reserved += size;
                return;
            }
            Optional<Path> oldest = usage.evictable().stream().min(Comparator.comparing(ObjectCache::lastModified));
            if (oldest.isEmpty()) {
                throw new StorageException(String.format("the S3 cache in %s has no room for %s (%,d bytes): it may hold %,d bytes"
                                + " (setting gpt2cls.store.s3.cache-max-size, else gpt2cls.store.s3.cache-max-share of its file"
                                + " system), %,d are in use by this process or being downloaded, and the file system has %,d bytes"
                                + " free; raise the limit or the disk (on Lambda: EphemeralStorage), or fetch less at once",
                        root, target.getFileName(), size, budgetBytes, usage.bytes() + reserved, usable));
            }
            LOG.infof("evicting %s from the S3 cache to make room for %s (%,d bytes)", root.relativize(oldest.get()), target.getFileName(), size);
            if (oldest.get().startsWith(root.resolve("sets"))) {
                removeSet(oldest.get());
            } else {
                removeObject(oldest.get());
            }
        }
    }

    /** The bytes held (each file once, downloads under way left to their reservations) and the entries that may be evicted. */
    private record Usage(long bytes, List<Path> evictable) {}

    private Usage usage() throws IOException {
        Set<Object> counted = new HashSet<>();
        List<Path> evictable = new ArrayList<>();
        long[] bytes = {0};
        Path sets = root.resolve("sets");
        Path objects = root.resolve("objects");
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attributes) {
                if (dir.startsWith(sets) && isEntry(dir) && !pins.containsKey(dir)) {
                    evictable.add(dir);
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attributes) throws IOException {
                if (attributes.isRegularFile() && !IN_PROGRESS.matcher(file.getFileName().toString()).matches()
                        && counted.add(attributes.fileKey() == null ? file : attributes.fileKey())) {
                    bytes[0] += attributes.size();
                }
                if (file.startsWith(objects) && isEntry(file.getParent()) && !pins.containsKey(file) && links(file) == 1) {
                    evictable.add(file); // an object no set links to
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFileFailed(Path file, IOException e) {
                return FileVisitResult.CONTINUE; // deleted meanwhile (a staged set published, another process's eviction)
            }
        });
        return new Usage(bytes[0], evictable);
    }

    private static boolean isEntry(Path dir) {
        return dir.getFileName().toString().startsWith("@");
    }

    private static FileTime lastModified(Path entry) {
        try {
            return Files.getLastModifiedTime(entry);
        } catch (IOException gone) {
            return FileTime.fromMillis(0);
        }
    }

    private static int links(Path file) {
        try {
            return (Integer) Files.getAttribute(file, "unix:nlink");
        } catch (IOException | UnsupportedOperationException e) {
            return 1;
        }
    }

    /** Deletes a cached object no set links to (unless handed out again meanwhile), with its @etag directory. */
    private void removeObject(Path object) throws IOException {
        if (pins.containsKey(object) || !Files.isRegularFile(object) || links(object) > 1) {
            return;
        }
        Files.deleteIfExists(object);
        try {
            Files.deleteIfExists(object.getParent());
        } catch (DirectoryNotEmptyException busy) {
            // a download of this version is writing its part file there
        }
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
    private void removeSet(Path setDir) throws IOException {
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
                    if (Files.isSameFile(object, link) && links(object) <= 2 && !pins.containsKey(object)) {
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
        Directories.deleteTree(dir);
        LOG.debugf("removed %s from the cache", dir);
    }

    /** A new, empty staging directory owned by this process. */
    Path newStagingDir() throws IOException {
        Path staging = root.resolve("staging");
        Files.createDirectories(staging);
        return Files.createDirectory(staging.resolve(OwnedFiles.OWNER + "-" + random()));
    }

    /**
     * Deletes what processes that are gone left unfinished: staging directories (they died before
     * committing or closing), partial downloads ({@code .part-*}) and half-linked sets.
     */
    void removeLeftovers() {
        Path staging = root.resolve("staging");
        try {
            if (Files.isDirectory(staging)) {
                try (Stream<Path> entries = Files.list(staging)) {
                    for (Path entry : entries.toList()) {
                        Matcher owner = STAGING.matcher(entry.getFileName().toString());
                        if (owner.matches() && !OwnedFiles.isAlive(Long.parseLong(owner.group(1)), Long.parseLong(owner.group(2)))) {
                            LOG.infof("removing %s, staged by an earlier run that stopped", entry);
                            Directories.deleteTree(entry);
                        }
                    }
                }
            }
            for (String area : List.of("objects", "sets")) {
                if (!Files.isDirectory(root.resolve(area))) {
                    continue;
                }
                List<Path> leftovers;
                try (Stream<Path> walk = Files.walk(root.resolve(area))) {
                    leftovers = walk.filter(path -> isLeftover(path.getFileName().toString())).toList();
                }
                for (Path leftover : leftovers) {
                    LOG.infof("removing %s, left unfinished by an earlier run that stopped", leftover);
                    Directories.deleteTree(leftover);
                }
            }
        } catch (IOException | UncheckedIOException e) {
            LOG.warnf("could not clean up %s: %s", root, e.getMessage());
        }
    }

    /** A download or set in progress whose process is gone (or that names none: written before names carried one). */
    private static boolean isLeftover(String name) {
        Matcher owner = IN_PROGRESS.matcher(name);
        return owner.matches() && (owner.group(1) == null
                || !OwnedFiles.isAlive(Long.parseLong(owner.group(1)), Long.parseLong(owner.group(2))));
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
