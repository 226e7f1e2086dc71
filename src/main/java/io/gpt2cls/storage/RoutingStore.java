package io.gpt2cls.storage;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.function.Supplier;
import java.util.stream.Collectors;

/**
 * The store the services use: routes each location to the local or the S3 store by its scheme, and
 * refuses locations outside the configured allowlist (a function deployed with a bucket and
 * prefixes must not be talked into reading or writing anywhere else).
 */
public final class RoutingStore implements ArtifactStore {

    private final ArtifactStore local;
    private final Supplier<ArtifactStore> s3;
    private final List<Location> allowed;
    private ArtifactStore s3Store;

    /**
     * @param s3 creates the S3 store on first use, so a purely local run needs no AWS set-up
     * @param allowed locations a request may name (each with everything below it); empty allows all
     */
    public RoutingStore(ArtifactStore local, Supplier<ArtifactStore> s3, List<Location> allowed) {
        this.local = local;
        this.s3 = s3;
        this.allowed = List.copyOf(allowed);
    }

    /** Checks {@code location} against the allowlist; the message lists what is allowed. */
    public Location check(Location location) {
        if (!allowed.isEmpty() && allowed.stream().noneMatch(a -> a.contains(location))) {
            throw new StorageException("location '" + location + "' is outside the allowed locations ("
                    + allowed.stream().map(Location::toString).collect(Collectors.joining(", "))
                    + "; setting gpt2cls.store.allowed-locations); name a location below one of them");
        }
        return location;
    }

    private ArtifactStore route(Location location) {
        check(location);
        if (location.isLocal()) {
            return local;
        }
        synchronized (this) {
            if (s3Store == null) {
                s3Store = s3.get();
            }
            return s3Store;
        }
    }

    @Override
    public Path fetchFile(Location location) {
        return explained(location, "read", () -> route(location).fetchFile(location));
    }

    @Override
    public Path fetchFile(Location location, String version) {
        return explained(location, "read", () -> route(location).fetchFile(location, version));
    }

    @Override
    public FileInfo fileInfo(Location location) {
        return explained(location, "read", () -> route(location).fileInfo(location));
    }

    @Override
    public InputStream openRange(Location location, String version, long offset, long length) {
        return explained(location, "read", () -> route(location).openRange(location, version, offset, length));
    }

    @Override
    public Path fetchSet(Location location, String commitObject) {
        return explained(location, "read", () -> route(location).fetchSet(location, commitObject));
    }

    @Override
    public String version(Location location, String commitObject) {
        return explained(location, "read", () -> route(location).version(location, commitObject));
    }

    /** Only the S3 store copies files and sets; a path it did not hand out is left alone. */
    @Override
    public void release(Path fetched) throws IOException {
        ArtifactStore remote;
        synchronized (this) {
            remote = s3Store;
        }
        if (remote != null) {
            remote.release(fetched);
        }
    }

    @Override
    public String fileVersion(Location location) {
        return explained(location, "read", () -> route(location).fileVersion(location));
    }

    @Override
    public boolean exists(Location location, String commitObject) {
        return explained(location, "read", () -> route(location).exists(location, commitObject));
    }

    @Override
    public List<Location> listFiles(Location location) {
        return explained(location, "list", () -> route(location).listFiles(location));
    }

    @Override
    public List<String> listSets(Location location, String commitObject) {
        return explained(location, "list", () -> route(location).listSets(location, commitObject));
    }

    @Override
    public Staging stage(Location location, String commitObject, String purpose) {
        return explained(location, "write", () -> route(location).stage(location, commitObject, purpose));
    }

    @Override
    public Lease lease(Location location, String name, String purpose, String run) {
        return explained(location, "write", () -> route(location).lease(location, name, purpose, run));
    }

    @Override
    public void deleteSet(Location location, String commitObject) {
        explained(location, "delete", () -> {
            route(location).deleteSet(location, commitObject);
            return null;
        });
    }

    private interface StoreCall<T> {
        T call() throws IOException;
    }

    /** A file system's refusal (no permission, name too long, not a directory) is the caller's to fix: say so with the location. */
    private static <T> T explained(Location location, String action, StoreCall<T> call) {
        try {
            return call.call();
        } catch (NoSuchFileException e) {
            throw new ArtifactNotFoundException("cannot " + action + " '" + location + "': " + e.getFile() + " does not exist");
        } catch (AccessDeniedException e) {
            throw new StorageException("cannot " + action + " '" + location + "': permission denied for " + e.getFile(), e);
        } catch (FileSystemException e) {
            throw new StorageException("cannot " + action + " '" + location + "': " + e.getFile()
                    + (e.getReason() == null ? "" : ": " + e.getReason()), e);
        } catch (IOException e) {
            throw new StorageException("cannot " + action + " '" + location + "': " + e.getMessage(), e);
        }
    }
}
