package io.gpt2cls.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.runtime.Directories;

/**
 * The embedded default: locations are local directories, used in place (nothing is copied).
 *
 * <p>A set is written into a hidden sibling directory {@code .<name>.staging-<owner>}; once
 * complete it is renamed to {@code .<name>.publishing-<owner>} (a journal: from here on the publish
 * only rolls forward), then moved into place: in one rename when nothing was there, else file by
 * file with the commit object removed first and renamed in last. {@code <owner>} names the process
 * (pid and start time), so the next process that opens the location can tell a leftover of a dead
 * run from work in progress: it deletes dead runs' staging directories and finishes their publishes.
 *
 * <p>One writer at a time: {@link #stage} and {@link #deleteSet} hold the location's publish lease, an
 * OS lock on {@code .<name>.publish.lock} beside it ({@link FileLease}), from the start of staging
 * until the set is in place; a dead publisher's journal is finished only under that lock. Readers
 * that find no commit object while the lock is held wait for the publish (bounded).
 */
public final class LocalStore implements ArtifactStore {

    private static final Logger LOG = Logger.getLogger(LocalStore.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String PUBLISH_LEASE = "publish";
    private static final SecureRandom RANDOM = new SecureRandom();
    /** Inside a publishing directory: the commit object and the set's files, so a later process can finish the publish. */
    static final String JOURNAL = ".publish.json";
    private static final Pattern LEFTOVER = Pattern.compile("^\\.(.+)\\.(staging|publishing|deleting)-(\\d+)-(\\d+)-[0-9a-f]+$");
    /** Names earlier versions used for their temporary directories; no process owns them any more. */
    private static final Pattern LEGACY_LEFTOVER = Pattern.compile("^\\.(?:staging-.*|.+\\.staging-\\d+|replaced-.*)$");
    /** An earlier version set a replaced dataset aside under this name; when the dataset is missing it is the only copy. */
    private static final Pattern LEGACY_PREVIOUS = Pattern.compile("^\\.(.+)\\.staging-\\d+-previous$");

    record Journal(String commit, List<String> files, boolean replacesCommittedSet) {}

    private final LeaseSettings leases;

    /** The steps of a local publish, announced to {@link #steps} (tests pause or stop a publisher at each). */
    enum Step { STAGED, JOURNALED, OLD_COMMIT_REMOVED, FILES_MOVED }

    /** Told each step a publish of this process reaches; tests only. */
    static volatile java.util.function.Consumer<Step> steps = step -> { };

    public LocalStore() {
        this(LeaseSettings.defaults());
    }

    /** A local store whose readers wait {@link LeaseSettings#readerWait()} for a publish under way. */
    public LocalStore(LeaseSettings leases) {
        this.leases = leases;
    }

    @Override
    public Path fetchFile(Location location) throws IOException {
        Path path = location.path();
        if (!Files.exists(path)) {
            throw new ArtifactNotFoundException("nothing at '" + location + "'");
        }
        return path;
    }

    @Override
    public Path fetchFile(Location location, String version) throws IOException {
        Path file = fetchFile(location);
        String now = fileVersion(location);
        if (!now.equals(version)) {
            throw StorageException.replacedSincePlanned(location, version, now, null);
        }
        return file;
    }

    @Override
    public Path fetchSet(Location location, String commitObject) throws IOException {
        Path dir = location.path();
        recoverLeftovers(dir.getParent());
        awaitPublish(location, commitObject);
        if (!Files.isDirectory(dir)) {
            throw new ArtifactNotFoundException(Files.exists(dir) ? "'" + location + "' is a file, not a directory"
                    : "nothing at '" + location + "'");
        }
        if (!Files.isRegularFile(dir.resolve(commitObject))) {
            throw new ArtifactNotFoundException("'" + location + "' has no " + commitObject
                    + ": nothing was published there, or a publish is under way");
        }
        return dir;
    }

    /** Waits (bounded) while the commit object is missing and a live publisher holds the lease. */
    private void awaitPublish(Location location, String commitObject) throws IOException {
        Path dir = location.path();
        long deadline = System.nanoTime() + leases.readerWait().toNanos();
        for (int attempt = 1; !Files.isRegularFile(dir.resolve(commitObject)) && FileLease.isHeld(dir, PUBLISH_LEASE); attempt++) {
            if (System.nanoTime() > deadline) {
                java.util.Optional<LeaseRecord> holder = FileLease.holder(dir, PUBLISH_LEASE);
                throw new PublishConflictException("'" + location + "' is being published by "
                        + holder.map(LeaseRecord::describe).orElse("another run") + " (waited " + leases.readerWait().toSeconds()
                        + " s); try again when it has finished", holder.orElse(null));
            }
            HeldLease.backOff(attempt);
        }
    }

    @Override
    public String fileVersion(Location location) throws IOException {
        Path file = fetchFile(location);
        BasicFileAttributes attributes = Files.readAttributes(file, BasicFileAttributes.class);
        return ObjectCache.sha256(attributes.size() + "\0" + attributes.lastModifiedTime().to(TimeUnit.NANOSECONDS) + "\0"
                + attributes.fileKey()).substring(0, ObjectCache.VERSION_CHARS);
    }

    @Override
    public InputStream openRange(Location location, String version, long offset, long length) throws IOException {
        InputStream range = S3Store.slice(fetchFile(location), offset, length);
        try {
            String now = fileVersion(location); // after opening: the open file is the version checked, whatever replaces it
            if (!now.equals(version)) {
                throw StorageException.replacedSincePlanned(location, version, now, null);
            }
            return range;
        } catch (IOException | RuntimeException e) {
            range.close();
            throw e;
        }
    }

    /** A hash of each file's name, size, modification time and inode: a publish renames new files in, so all change. */
    @Override
    public String version(Location location, String commitObject) throws IOException {
        Path dir = fetchSet(location, commitObject);
        StringBuilder listing = new StringBuilder();
        for (String name : setFiles(dir)) {
            BasicFileAttributes file = Files.readAttributes(dir.resolve(name), BasicFileAttributes.class);
            listing.append(name).append('\0').append(file.size()).append('\0').append(file.lastModifiedTime().to(TimeUnit.NANOSECONDS))
                    .append('\0').append(file.fileKey()).append('\n');
        }
        return ObjectCache.sha256(listing.toString()).substring(0, ObjectCache.VERSION_CHARS);
    }

    @Override
    public boolean exists(Location location, String commitObject) throws IOException {
        recoverLeftovers(location.path().getParent());
        return Files.isRegularFile(location.path().resolve(commitObject));
    }

    @Override
    public List<Location> listFiles(Location location) throws IOException {
        if (!Files.isDirectory(location.path())) {
            return List.of();
        }
        return setFiles(location.path()).stream().map(location::resolve).toList();
    }

    @Override
    public List<String> listSets(Location location, String commitObject) throws IOException {
        Path dir = location.path();
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        recoverLeftovers(dir);
        List<String> names = new ArrayList<>();
        try (Stream<Path> children = Files.list(dir)) {
            children.filter(child -> Files.isRegularFile(child.resolve(commitObject)))
                    .map(child -> child.getFileName().toString())
                    .filter(name -> !name.startsWith("."))
                    .sorted()
                    .forEach(names::add);
        }
        return names;
    }

    @Override
    public Staging stage(Location location, String commitObject, String purpose) throws IOException {
        Path destination = location.path();
        if (Files.exists(destination) && !Files.isDirectory(destination)) {
            throw new StorageException("'" + location + "' is a file; name a directory for the output");
        }
        Path parent = destination.getParent();
        Files.createDirectories(parent);
        FileLease lease = FileLease.acquire(location, destination, PUBLISH_LEASE, purpose, null);
        try {
            recoverLeftovers(parent, destination);
            Path staging = Files.createDirectory(parent.resolve(siblingName(destination, "staging")));
            steps.accept(Step.STAGED);
            return new LocalStaging(location, destination, staging, commitObject, lease);
        } catch (IOException | RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    @Override
    public Lease lease(Location location, String name, String purpose, String run) throws IOException {
        Files.createDirectories(location.path().getParent());
        return FileLease.acquire(location, location.path(), name, purpose, run);
    }

    @Override
    public void deleteSet(Location location, String commitObject) throws IOException {
        Path dir = location.path();
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (FileLease lease = FileLease.acquire(location, dir, PUBLISH_LEASE, "delete", null)) {
            if (!Files.isDirectory(dir)) {
                return;
            }
            // One rename makes the set disappear for readers; the files are deleted after.
            Path deleting = dir.resolveSibling(siblingName(dir, "deleting"));
            Files.move(dir, deleting, StandardCopyOption.ATOMIC_MOVE);
            Directories.deleteTree(deleting);
        }
    }

    private static String siblingName(Path destination, String kind) {
        byte[] random = new byte[4];
        RANDOM.nextBytes(random);
        return "." + destination.getFileName() + "." + kind + "-" + OwnedFiles.OWNER + "-" + HexFormat.of().formatHex(random);
    }

    private final class LocalStaging implements Staging {
        private final Location location;
        private final Path destination;
        private final Path staging;
        private final String commitObject;
        private final FileLease lease;
        private boolean committed;

        LocalStaging(Location location, Path destination, Path staging, String commitObject, FileLease lease) {
            this.location = location;
            this.destination = destination;
            this.staging = staging;
            this.commitObject = commitObject;
            this.lease = lease;
        }

        @Override
        public Path dir() {
            return staging;
        }

        @Override
        public void commit() throws IOException {
            List<String> files = setFiles(staging);
            if (!files.contains(commitObject)) {
                throw new IllegalStateException("the set staged for " + location + " has no " + commitObject);
            }
            Journal journal = new Journal(commitObject, files, Files.isRegularFile(destination.resolve(commitObject)));
            JSON.writeValue(staging.resolve(JOURNAL).toFile(), journal);
            Path publishing = destination.resolveSibling(siblingName(destination, "publishing"));
            Files.move(staging, publishing, StandardCopyOption.ATOMIC_MOVE);
            committed = true;
            steps.accept(Step.JOURNALED);
            rollForward(publishing, destination);
            lease.close();
        }

        @Override
        public void close() throws IOException {
            try {
                if (!committed) {
                    Directories.deleteTree(staging);
                }
            } finally {
                lease.close();
            }
        }
    }

    /**
     * Moves a complete set from its publishing directory into place. Idempotent: a process that
     * finds the directory of a dead publisher calls it again and it finishes where that one stopped.
     */
    static void rollForward(Path publishing, Path destination) throws IOException {
        Journal journal = JSON.readValue(publishing.resolve(JOURNAL).toFile(), Journal.class);
        if (!Files.exists(destination)) {
            try {
                Files.move(publishing, destination, StandardCopyOption.ATOMIC_MOVE);
                Files.deleteIfExists(destination.resolve(JOURNAL));
                return;
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException raced) {
                // created meanwhile: replace file by file below
            }
        }
        Path commit = publishing.resolve(journal.commit());
        if (Files.exists(commit)) { // the commit object has not moved yet: the old set must vanish before it is changed
            Files.deleteIfExists(destination.resolve(journal.commit()));
            steps.accept(Step.OLD_COMMIT_REMOVED);
            for (String file : journal.files()) {
                Path source = publishing.resolve(file);
                if (!file.equals(journal.commit()) && Files.exists(source)) {
                    Files.move(source, destination.resolve(file), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
                }
            }
            if (journal.replacesCommittedSet()) { // before the commit: the new set must not show the old one's other files
                Set<String> current = new TreeSet<>(journal.files());
                for (String stale : setFiles(destination)) {
                    if (!current.contains(stale)) {
                        Files.deleteIfExists(destination.resolve(stale));
                    }
                }
            }
            steps.accept(Step.FILES_MOVED);
            Files.move(commit, destination.resolve(journal.commit()), StandardCopyOption.ATOMIC_MOVE);
        }
        Directories.deleteTree(publishing);
    }

    /** Finishes dead processes' publishes and deletes their staging and deleting directories in {@code dir}. */
    static void recoverLeftovers(Path dir) {
        recoverLeftovers(dir, null);
    }

    /**
     * As {@link #recoverLeftovers(Path)}; a dead publisher's work for a destination is finished or
     * removed only under that destination's publish lease: the caller's own ({@code leased}, which it
     * holds), or one taken here for the moment (skipped when a live writer holds it: that writer
     * finishes it).
     */
    static void recoverLeftovers(Path dir, Path leased) {
        if (dir == null || !Files.isDirectory(dir)) {
            return;
        }
        try (Stream<Path> entries = Files.list(dir)) {
            for (Path entry : entries.filter(Files::isDirectory).toList()) {
                String name = entry.getFileName().toString();
                Matcher leftover = LEFTOVER.matcher(name);
                if (leftover.matches()) {
                    if (OwnedFiles.isAlive(Long.parseLong(leftover.group(3)), Long.parseLong(leftover.group(4)))) {
                        continue;
                    }
                    Path destination = dir.resolve(leftover.group(1));
                    try (FileLease lease = destination.equals(leased) ? null
                            : FileLease.tryAcquire(Location.of(destination), destination, PUBLISH_LEASE, "recovery", null)) {
                        if (!destination.equals(leased) && lease == null) {
                            continue;
                        }
                        if (!Files.isDirectory(entry)) {
                            continue; // finished by another process meanwhile
                        }
                        if (leftover.group(2).equals("publishing") && Files.exists(entry.resolve(JOURNAL))) {
                            LOG.infof("finishing the publish of %s that an earlier run left half done", destination);
                            rollForward(entry, destination);
                        } else {
                            LOG.infof("removing %s, left by an earlier run that stopped", entry);
                            Directories.deleteTree(entry);
                        }
                    }
                } else if (LEGACY_PREVIOUS.matcher(name).matches()) {
                    Matcher previous = LEGACY_PREVIOUS.matcher(name);
                    previous.matches();
                    Path destination = dir.resolve(previous.group(1));
                    if (Files.exists(destination)) {
                        Directories.deleteTree(entry);
                    } else {
                        LOG.infof("restoring %s from %s, where an interrupted earlier run left it", destination, entry);
                        Files.move(entry, destination, StandardCopyOption.ATOMIC_MOVE);
                    }
                } else if (LEGACY_LEFTOVER.matcher(name).matches()) {
                    LOG.infof("removing %s, left by an earlier run that stopped", entry);
                    Directories.deleteTree(entry);
                }
            }
        } catch (IOException e) {
            // a read-only location (a mounted model) cannot be cleaned, and needs no cleaning to be read
            LOG.debugf("could not clean leftovers in %s: %s", dir, e.getMessage());
        }
    }


    /** The set's files: regular files directly in {@code dir}, hidden ones (journals) excluded. */
    static List<String> setFiles(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(Files::isRegularFile)
                    .map(p -> p.getFileName().toString())
                    .filter(name -> !name.startsWith("."))
                    .sorted()
                    .toList();
        }
    }
}
