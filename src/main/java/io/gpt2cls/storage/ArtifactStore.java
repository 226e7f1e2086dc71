package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Where datasets, tokenizers and checkpoints live. Services work on local directories; a store
 * maps a location (a path, a {@code file:} URI, later {@code s3://bucket/prefix}) to one.
 */
public interface ArtifactStore {

    /** A local directory or file holding what is at {@code location}, fetched first if it is remote. */
    Path fetch(String location) throws IOException;

    /** A local directory to write the artifact for {@code location} into. */
    Path workDir(String location) throws IOException;

    /** Makes what was written to {@code workDir} visible at {@code location}. */
    void publish(Path workDir, String location) throws IOException;
}
