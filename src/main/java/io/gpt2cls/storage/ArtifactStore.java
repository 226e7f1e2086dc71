package io.gpt2cls.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * Where datasets, tokenizers and checkpoints live: local directories (the embedded default) or S3.
 * Services work on local files; the store brings remote ones in and publishes what was written.
 *
 * <h2>Sets and their commit object</h2>
 * An artifact is a <em>set</em>: the files directly inside one location (a directory, or the
 * objects directly under an S3 prefix; deeper levels are other sets, e.g. {@code checkpoint-40/}
 * under a model). Each set has a <em>commit object</em>, the file its readers open first:
 * {@code manifest.json} for a prepared dataset, {@code config.json} for a model or checkpoint. A set
 * stays in place, in the layout its readers expect (a committed model directory or prefix is what
 * {@code from_pretrained} reads, also after {@code aws s3 sync}). Names starting with '.' are not
 * part of a set.
 *
 * <h2>Publishing: one writer at a time, commit object last</h2>
 * <ol>
 *   <li><b>Lease.</b> {@link #stage} takes the location's <em>publish lease</em> before anything is
 *       written: an object created only if absent ({@code .publish.lease} under the prefix, with
 *       {@code If-None-Match: *}) in S3, an OS file lock ({@code .<name>.publish.lock} beside the
 *       directory) locally. A second publisher of the same location gets a
 *       {@link PublishConflictException} naming the run that holds it and since when, and has written
 *       nothing. An S3 lease names its holder and lives {@link LeaseSettings#ttl()} past its last
 *       renewal; the holder renews it every third of that (compare-and-swap, {@code If-Match}) and
 *       stops writing when it could not. A lease whose holder crashed expires (S3; by the server's
 *       clock) or is released with the process (local), and the next writer takes it over with a
 *       compare-and-swap, so exactly one of several takers wins and no location is blocked for good.</li>
 *   <li><b>Write.</b> {@link Staging#commit()} removes the old commit object first (readers now see
 *       "being published"), writes every other file, removes the old set's files that the new set
 *       does not have, then writes the commit object and gives the lease back. In S3 each of these
 *       writes and deletes is conditional on what the writer listed under its lease ({@code If-Match}
 *       on the ETag, {@code If-None-Match: *} for a new name and for the commit object), so a writer
 *       that lost its lease cannot change the set of the run that took it over.</li>
 *   <li><b>Recovery.</b> A publish that died leaves no commit object (the set is absent) and a marker
 *       or journal that tells the next publisher, who holds the lease, what to clean up or finish.</li>
 * </ol>
 * {@link #deleteSet} takes the same lease. A run that writes several sets at one location (a
 * fine-tuning job) holds a lease of its own on it ({@link #lease}).
 *
 * <h2>Readers</h2>
 * Readers trust a set only when its commit object exists. S3 readers download each file with
 * {@code If-Match} on the ETag the listing gave and list again when one changed; a location whose
 * commit object is missing while a live lease is held is "being published": readers wait up to
 * {@link LeaseSettings#readerWait()} for it, then get a {@link PublishConflictException}. So a
 * reader gets the old set whole, the new set whole, or "being published", never a mix. (A local
 * set is read in place: a reader that goes on reading while a later publish replaces it can tell
 * by {@link #version}.)
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
     * {@link #fetchFile} of the file's version {@code version} ({@link #fileVersion}): a file replaced
     * since that version was read is refused ({@link StorageException#replacedSincePlanned}), as
     * {@link #openRange} refuses it.
     */
    Path fetchFile(Location location, String version) throws IOException;

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
     * Says the caller is done with a directory {@link #fetchSet} or a file {@link #fetchFile}
     * returned, so a store that copied it into its cache may delete that copy once no other caller
     * holds it (files another fetched set shares stay); until then the copy is never evicted. A local
     * set or file is the location itself and stays. Each fetch is released once; nothing may read
     * the path afterwards.
     */
    default void release(Path fetched) throws IOException {
    }

    /**
     * Which version of the single file at {@code location} is there now, without downloading it (S3:
     * its ETag; local: a hash of its size, modification time and inode): what a handler that must run
     * once per input names its work after. Throws {@link ArtifactNotFoundException} when it is missing.
     */
    String fileVersion(Location location) throws IOException;

    /** A file's size and version ({@link #fileVersion}: what changes when it is replaced, what {@link #openRange} checks). */
    record FileInfo(long bytes, String version) {}

    /** The size and version of one file, without downloading it. */
    default FileInfo fileInfo(Location location) throws IOException {
        return new FileInfo(java.nio.file.Files.size(fetchFile(location)), fileVersion(location));
    }

    /**
     * Bytes {@code [offset, offset + length)} of the file at {@code location} (fewer at its end, none
     * past it), read without fetching the rest, and only from version {@code version} (what
     * {@link #fileInfo} answered): a file replaced since is refused with a {@link StorageException}, so
     * the ranges of one planned file never mix two versions. S3: one GetObject with a {@code Range}
     * header and {@code If-Match}. The caller closes the stream.
     */
    InputStream openRange(Location location, String version, long offset, long length) throws IOException;

    /** Whether a committed set exists at {@code location}. */
    boolean exists(Location location, String commitObject) throws IOException;

    /** The files directly below a directory or prefix (not in sets below it), sorted by name; empty if there are none. */
    List<Location> listFiles(Location location) throws IOException;

    /** The names directly below {@code location} that are committed sets (e.g. the checkpoints of a model). */
    List<String> listSets(Location location, String commitObject) throws IOException;

    /**
     * Starts writing the set at {@code location}: takes its publish lease (else throws
     * {@link PublishConflictException}), and the caller fills {@link Staging#dir()} and calls
     * {@link Staging#commit()}; closing without a commit discards everything written, gives the lease
     * back, and the set at {@code location} stays as it was.
     */
    default Staging stage(Location location, String commitObject) throws IOException {
        return stage(location, commitObject, null);
    }

    /**
     * As {@link #stage(Location, String)}; {@code purpose} says in the lease what is being published
     * (a second publisher reads it in the {@link PublishConflictException}, e.g. to tell a duplicate of
     * its own work from other work).
     */
    Staging stage(Location location, String commitObject, String purpose) throws IOException;

    /**
     * Publishes the set at {@code location} once, however many ask at once: returns false when it is
     * there already; else takes its publish lease, and, if it is still not there, lets {@code fill}
     * write its files into the staging directory, commits them and returns true. When another
     * publisher holds the lease, waits up to {@code wait} for its set, polling, and takes the lease over
     * when that publisher goes without publishing (its fetch failed, or it died and its lease
     * expired); past {@code wait} the {@link PublishConflictException} is thrown, naming the holder.
     */
    default boolean publishOnce(Location location, String commitObject, String purpose, Duration wait, SetWriter fill)
            throws IOException {
        long deadline = System.nanoTime() + wait.toNanos();
        boolean waiting = false;
        while (!exists(location, commitObject)) {
            Staging staging;
            try {
                staging = stage(location, commitObject, purpose);
            } catch (PublishConflictException busy) { // only the lease's holder is waited for: a lease lost while writing is thrown
                if (System.nanoTime() - deadline > 0) {
                    throw busy;
                }
                if (!waiting) {
                    waiting = true;
                    PublishWait.LOG.infof("%s is being published by another run (%s): waiting up to %d s for it", location,
                            busy.getMessage(), wait.toSeconds());
                }
                PublishWait.pause(busy);
                continue;
            }
            try (staging) {
                if (exists(location, commitObject)) { // published by the holder this one waited for
                    return false;
                }
                fill.write(staging.dir());
                staging.commit();
                return true;
            }
        }
        return false;
    }

    /** Writes a set's files into its staging directory. */
    @FunctionalInterface
    interface SetWriter {
        void write(Path dir) throws IOException;
    }

    /**
     * Takes the lease {@code name} on {@code location} for a run that writes there for a long time
     * (e.g. {@code "run"} for a fine-tuning job's output), kept alive until closed. Throws
     * {@link PublishConflictException} when another live run holds it. {@code run} names the run;
     * a lease held under the same run name is taken over (a retry of a job whose earlier attempt
     * died); null names this process.
     */
    Lease lease(Location location, String name, String purpose, String run) throws IOException;

    /**
     * Removes the set at {@code location} under its publish lease: its commit object first, so it
     * disappears at once for readers.
     */
    void deleteSet(Location location, String commitObject) throws IOException;

    /** An exclusive claim on a location, renewed while it is held; closing gives it back. */
    interface Lease extends AutoCloseable {
        /** What the lease says about its holder (this run). */
        LeaseRecord record();

        /** Renews the lease now; throws {@link PublishConflictException} when another run holds it by now. */
        void check() throws IOException;

        /** Throws {@link PublishConflictException} when the lease was lost or may have expired; no request sent. */
        void requireValid() throws PublishConflictException;

        @Override
        void close() throws IOException;
    }

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
