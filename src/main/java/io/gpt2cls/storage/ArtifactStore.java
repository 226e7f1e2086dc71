package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Where datasets, tokenizers and checkpoints live: local directories (the embedded default) or S3.
 * Services work on local files; the store brings remote ones in and publishes what was written.
 *
 * <h2>Sets and their commit object</h2>
 * An artifact is a <em>set</em>: the files directly inside one location (a directory, or the
 * objects directly under an S3 prefix; deeper levels are other sets, e.g. {@code checkpoint-40/}
 * under a model). Each set has a <em>commit object</em>, the file its readers open first:
 * {@code manifest.json} for a prepared dataset, {@code config.json} for a model or checkpoint.
 * Publishing removes the old commit object first, writes every other file, and writes the commit
 * object last; readers trust a set only when its commit object exists. So a reader sees the old set,
 * nothing, or the new set, never a mix, whatever the store (S3 has no rename) and whenever the
 * writer dies. Files of a previously committed set that the new set does not have are removed after
 * the commit. Names starting with '.' are not part of a set.
 *
 * <h2>What readers get</h2>
 * Fetched files and directories belong to the store (the committed directory itself for a local
 * location, shared cache entries for S3): read them or copy from them, never modify or move them. A
 * file fetched alone keeps its name but comes without its neighbours.
 */
public interface ArtifactStore {

    /** A local copy of one file (downloaded into the cache if remote; the path itself if local). */
    Path fetchFile(Location location) throws IOException;

    /**
     * A local directory holding the committed set at {@code location} (downloaded into the cache,
     * keyed by each object's ETag, if remote). Throws {@link ArtifactNotFoundException} when the
     * commit object is absent: nothing was published there, or a publish is under way.
     */
    Path fetchSet(Location location, String commitObject) throws IOException;

    /**
     * Which version of the committed set is at {@code location} now: the same while its files stay
     * the same, another after a publish; cheap enough to poll (S3: one listing, a hash of the
     * objects' names and ETags; local: a hash of the files' names, sizes, modification times and
     * inodes). Throws {@link ArtifactNotFoundException} like {@link #fetchSet}.
     */
    String version(Location location, String commitObject) throws IOException;

    /**
     * Says the caller is done with a directory {@link #fetchSet} returned, so a store that copied
     * the set into its cache may delete that copy (files another fetched set shares stay). A local
     * set is the location itself and stays. Nothing may read the directory afterwards.
     */
    default void release(Path fetchedSet) throws IOException {
    }

    /** A file's size and version: what changes when it is replaced (S3: its ETag; local: its modification time). */
    record FileInfo(long bytes, String version) {}

    /** The size and version of one file, without downloading it. */
    default FileInfo fileInfo(Location location) throws IOException {
        Path file = fetchFile(location);
        return new FileInfo(java.nio.file.Files.size(file), java.nio.file.Files.getLastModifiedTime(file).toString());
    }

    /** Whether a committed set exists at {@code location}. */
    boolean exists(Location location, String commitObject) throws IOException;

    /** The files directly below a directory or prefix (not in sets below it), sorted by name; empty if there are none. */
    List<Location> listFiles(Location location) throws IOException;

    /** The names directly below {@code location} that are committed sets (e.g. the checkpoints of a model). */
    List<String> listSets(Location location, String commitObject) throws IOException;

    /**
     * Starts writing the set at {@code location}: the caller fills {@link Staging#dir()} and calls
     * {@link Staging#commit()}; closing without a commit discards everything written, and the set
     * at {@code location} stays as it was.
     */
    Staging stage(Location location, String commitObject) throws IOException;

    /** Removes the set at {@code location}: its commit object first, so it disappears at once for readers. */
    void deleteSet(Location location, String commitObject) throws IOException;

    /** A set being written: a local, initially empty directory, and the step that publishes it. */
    interface Staging extends AutoCloseable {
        Path dir();

        /** Publishes the files in {@link #dir()} (top level only) as the set, commit object last. */
        void commit() throws IOException;

        /** Discards the staged files unless committed. */
        @Override
        void close() throws IOException;
    }
}
