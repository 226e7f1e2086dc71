package io.gpt2cls.storage;

import java.net.URI;
import java.nio.file.Path;
import java.util.Optional;

/**
 * How the {@link S3Store} talks to S3, beyond what the standard AWS configuration already says.
 * Credentials, region, endpoint ({@code AWS_ENDPOINT_URL_S3} / {@code AWS_ENDPOINT_URL}) and checksum
 * behaviour ({@code AWS_REQUEST_CHECKSUM_CALCULATION}) come from the SDK's own environment variables,
 * system properties and {@code ~/.aws/config}; nothing here is needed to reach real S3, MinIO or S3Proxy.
 *
 * @param cacheDir local directory for downloaded objects (keyed by ETag) and for staged sets
 * @param multipartThreshold files of at least this many bytes are uploaded in parts
 * @param partSize bytes per part (S3 allows 5 MiB to 5 GiB; raised when a file would need more than 10,000 parts)
 * @param concurrency parts and files uploaded, and files downloaded, at the same time
 * @param maxAttempts attempts per request (first try included) under the SDK's standard retry strategy:
 *                    exponential backoff with jitter on throttling, 5xx and I/O errors
 * @param pathStyle path-style requests ({@code http://host/bucket/key}); empty: only when an endpoint
 *                  override is in effect (MinIO, S3Proxy need it), virtual-hosted style for AWS
 * @param endpoint an endpoint override that takes precedence over {@code AWS_ENDPOINT_URL_S3}; empty: the SDK's
 * @param cacheMaxSize the most bytes the cache directory may hold; empty: {@code cacheMaxShare} of its file system
 * @param cacheMaxShare without {@code cacheMaxSize}: the share of the cache directory's file system it may fill
 */
public record S3Settings(Path cacheDir, long multipartThreshold, long partSize, int concurrency, int maxAttempts,
                         Optional<Boolean> pathStyle, Optional<URI> endpoint, Optional<Long> cacheMaxSize, double cacheMaxShare) {

    /** Without {@code cacheMaxSize}, the cache may fill this share of its file system (/tmp on Lambda). */
    public static final double DEFAULT_CACHE_MAX_SHARE = 0.75;

    public static final long MIB = 1024 * 1024;
    /** The smallest part S3 accepts (all but the last part of an upload). */
    public static final long MIN_PART_SIZE = 5 * MIB;
    public static final long MAX_PART_SIZE = 5L * 1024 * MIB;

    public S3Settings {
        if (cacheDir == null) {
            throw new StorageException("S3 store: a cache directory is required (setting gpt2cls.store.s3.cache-dir)");
        }
        if (partSize < MIN_PART_SIZE || partSize > MAX_PART_SIZE) {
            throw new StorageException("S3 store: part size " + partSize + " bytes is outside what S3 accepts (5 MiB to 5 GiB;"
                    + " setting gpt2cls.store.s3.part-size)");
        }
        if (multipartThreshold < 0) {
            throw new StorageException("S3 store: the multipart threshold must not be negative (setting gpt2cls.store.s3.multipart-threshold)");
        }
        if (concurrency < 1 || maxAttempts < 1) {
            throw new StorageException("S3 store: concurrency and max attempts must be at least 1"
                    + " (settings gpt2cls.store.s3.concurrency, gpt2cls.store.s3.max-attempts)");
        }
        pathStyle = pathStyle == null ? Optional.empty() : pathStyle;
        endpoint = endpoint == null ? Optional.empty() : endpoint;
        cacheMaxSize = cacheMaxSize == null ? Optional.empty() : cacheMaxSize;
        if (cacheMaxSize.isPresent() && cacheMaxSize.get() < 1) {
            throw new StorageException("S3 store: the cache's maximum size must be positive (setting gpt2cls.store.s3.cache-max-size)");
        }
        if (!(cacheMaxShare > 0 && cacheMaxShare <= 1)) {
            throw new StorageException("S3 store: the cache's share of its file system must be above 0 and at most 1, got "
                    + cacheMaxShare + " (setting gpt2cls.store.s3.cache-max-share)");
        }
    }

    /** With the cache bounded by {@link #DEFAULT_CACHE_MAX_SHARE} of its file system. */
    public S3Settings(Path cacheDir, long multipartThreshold, long partSize, int concurrency, int maxAttempts,
                      Optional<Boolean> pathStyle, Optional<URI> endpoint) {
        this(cacheDir, multipartThreshold, partSize, concurrency, maxAttempts, pathStyle, endpoint, Optional.empty(),
                DEFAULT_CACHE_MAX_SHARE);
    }

    /** 16 MiB parts above 16 MiB, 4 transfers at a time, 5 attempts, cache under {@code java.io.tmpdir} (/tmp on Lambda). */
    public static S3Settings defaults() {
        return new S3Settings(Path.of(System.getProperty("java.io.tmpdir"), "gpt2cls-s3"), 16 * MIB, 16 * MIB, 4, 5,
                Optional.empty(), Optional.empty());
    }

    public S3Settings withCacheDir(Path dir) {
        return new S3Settings(dir, multipartThreshold, partSize, concurrency, maxAttempts, pathStyle, endpoint, cacheMaxSize, cacheMaxShare);
    }

    public S3Settings withMultipart(long threshold, long size) {
        return new S3Settings(cacheDir, threshold, size, concurrency, maxAttempts, pathStyle, endpoint, cacheMaxSize, cacheMaxShare);
    }

    public S3Settings withConcurrency(int transfers) {
        return new S3Settings(cacheDir, multipartThreshold, partSize, transfers, maxAttempts, pathStyle, endpoint, cacheMaxSize, cacheMaxShare);
    }

    public S3Settings withMaxAttempts(int attempts) {
        return new S3Settings(cacheDir, multipartThreshold, partSize, concurrency, attempts, pathStyle, endpoint, cacheMaxSize, cacheMaxShare);
    }

    public S3Settings withPathStyle(Optional<Boolean> style) {
        return new S3Settings(cacheDir, multipartThreshold, partSize, concurrency, maxAttempts, style, endpoint, cacheMaxSize, cacheMaxShare);
    }

    public S3Settings withEndpoint(Optional<URI> override) {
        return new S3Settings(cacheDir, multipartThreshold, partSize, concurrency, maxAttempts, pathStyle, override, cacheMaxSize,
                cacheMaxShare);
    }

    public S3Settings withCacheMaxSize(long bytes) {
        return new S3Settings(cacheDir, multipartThreshold, partSize, concurrency, maxAttempts, pathStyle, endpoint, Optional.of(bytes),
                cacheMaxShare);
    }
}
