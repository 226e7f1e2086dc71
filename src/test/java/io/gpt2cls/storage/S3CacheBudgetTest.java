package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/**
 * The S3 store's cache on a small budget: a stream of new uploads never fills it past the budget,
 * whoever fetched them; what is in use is never evicted, and when nothing can go, the download is a
 * clear error before anything is written.
 */
public class S3CacheBudgetTest {

    static final String BUCKET = "gpt2cls-cache-budget-test";
    static final int UPLOAD_BYTES = 40_000;
    static final long BUDGET = 5 * UPLOAD_BYTES + UPLOAD_BYTES / 2;

    @RegisterExtension
    static final S3ProxyExtension S3 = S3ProxyExtension.shared();

    @TempDir
    Path cacheDir;

    @BeforeAll
    static void bucket() {
        try {
            S3.server().createBucket(BUCKET);
        } catch (BucketAlreadyOwnedByYouException createdByAnotherClass) {
            // the server is shared
        }
    }

    S3Store newStore() {
        return S3Store.create(S3Settings.defaults().withCacheDir(cacheDir).withEndpoint(Optional.of(S3.server().endpoint()))
                .withMaxAttempts(2).withCacheMaxSize(BUDGET), builder -> builder.credentialsProvider(S3ProxyServer.credentials()));
    }

    /** Uploads {@code count} new files under {@code prefix}, as users drop data files. */
    static List<Location> upload(String prefix, int count) {
        try (S3Client raw = S3.server().client()) {
            return java.util.stream.IntStream.range(0, count).mapToObj(i -> {
                Location file = Location.parse("s3://" + BUCKET + "/" + prefix + "/upload-" + i + ".csv");
                byte[] bytes = new byte[UPLOAD_BYTES];
                new java.util.Random(i).nextBytes(bytes);
                raw.putObject(b -> b.bucket(BUCKET).key(file.key()), RequestBody.fromBytes(bytes));
                return file;
            }).toList();
        }
    }

    /** The bytes in the cache directory, each file once however many links it has. */
    public static long cachedBytes(Path dir) throws IOException {
        Set<Object> seen = new HashSet<>();
        long bytes = 0;
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path path : walk.toList()) {
                BasicFileAttributes attributes = Files.readAttributes(path, BasicFileAttributes.class);
                if (attributes.isRegularFile() && seen.add(attributes.fileKey())) {
                    bytes += attributes.size();
                }
            }
        }
        return bytes;
    }

    static long partFiles(Path dir) throws IOException {
        try (Stream<Path> walk = Files.walk(dir)) {
            return walk.filter(path -> path.getFileName().toString().contains(".part-")).count();
        }
    }

    @Test
    void filesFetchedAndReleasedLeaveNothingBehind(TestInfo test) throws IOException {
        List<Location> uploads = upload(test.getTestMethod().orElseThrow().getName(), 20);
        try (S3Store store = newStore()) {
            for (Location file : uploads) {
                Path fetched = store.fetchFile(file);
                assertEquals(UPLOAD_BYTES, Files.size(fetched));
                store.release(fetched); // as prepare does with its inputs when done
                assertFalse(Files.exists(fetched), "a released download is deleted");
            }
        }
        assertEquals(0, cachedBytes(cacheDir));
    }

    @Test
    void aStreamOfNewUploadsFetchedByProcessesThatStoppedStaysWithinTheBudget(TestInfo test) throws IOException {
        List<Location> uploads = upload(test.getTestMethod().orElseThrow().getName(), 30);
        Path newest = null;
        for (Location file : uploads) {
            try (S3Store process = newStore()) { // each run stops without releasing: its downloads are left unpinned
                newest = process.fetchFile(file);
                assertEquals(UPLOAD_BYTES, Files.size(newest));
                assertTrue(cachedBytes(cacheDir) <= BUDGET, "the cache holds " + cachedBytes(cacheDir) + " bytes, budget " + BUDGET);
            }
        }
        assertEquals(5, countDownloads(), "the budget holds five uploads: the older ones were evicted");
        assertTrue(Files.exists(newest), "the most recently used stay");
    }

    @Test
    void whatIsInUseIsNeverEvictedAndAFetchThatCannotFitIsAClearErrorBeforeAnythingIsWritten(TestInfo test) throws IOException {
        List<Location> uploads = upload(test.getTestMethod().orElseThrow().getName(), 6);
        try (S3Store store = newStore()) {
            List<Path> held = uploads.subList(0, 5).stream().map(file -> {
                try {
                    return store.fetchFile(file);
                } catch (IOException e) {
                    throw new IllegalStateException(e);
                }
            }).toList();
            StorageException full = assertThrows(StorageException.class, () -> store.fetchFile(uploads.get(5)));
            assertTrue(full.getMessage().startsWith("the S3 cache in " + cacheDir + " has no room for upload-5.csv (40,000 bytes)")
                    && full.getMessage().contains("gpt2cls.store.s3.cache-max-size"), full.getMessage());
            assertEquals(0, partFiles(cacheDir), "nothing was written for the refused download");
            for (Path file : held) {
                assertTrue(Files.exists(file), "a file in use is never evicted");
            }

            store.release(held.get(0));
            assertEquals(UPLOAD_BYTES, Files.size(store.fetchFile(uploads.get(5))), "room once one is let go");
            assertTrue(cachedBytes(cacheDir) <= BUDGET);
        }
    }

    @Test
    void partialDownloadsOfAStoppedProcessAreRemovedOnStart() throws IOException {
        Path object = Files.createDirectories(cacheDir.resolve("objects/bucket/key/@etag"));
        Path deadProcess = Files.writeString(object.resolve(".key.part-1-1-abcdef"), "half");
        Path olderFormat = Files.writeString(object.resolve(".key.part-abcdef"), "half");
        Path live = Files.writeString(object.resolve(".key.part-" + OwnedFiles.OWNER + "-abcdef"), "writing");
        Path halfLinked = Files.createDirectories(cacheDir.resolve("sets/bucket/key/.building-1-1-abcdef"));
        try (S3Store store = newStore()) {
            assertFalse(Files.exists(deadProcess));
            assertFalse(Files.exists(olderFormat));
            assertFalse(Files.exists(halfLinked));
            assertTrue(Files.exists(live), "a download of a running process is its own");
        }
    }

    private long countDownloads() throws IOException {
        try (Stream<Path> walk = Files.walk(cacheDir.resolve("objects"))) {
            return walk.filter(path -> Files.isRegularFile(path) && path.getFileName().toString().startsWith("upload-")).count();
        }
    }
}
