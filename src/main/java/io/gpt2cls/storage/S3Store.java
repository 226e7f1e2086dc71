package io.gpt2cls.storage;

import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;
import java.util.SortedSet;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.gpt2cls.runtime.Directories;
import io.gpt2cls.storage.S3Errors.Action;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkSystemSetting;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.RetryableException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.ResponseBytes;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.profiles.ProfileFile;
import software.amazon.awssdk.profiles.ProfileFileSystemSetting;
import software.amazon.awssdk.profiles.ProfileProperty;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.regions.providers.AwsProfileRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProvider;
import software.amazon.awssdk.regions.providers.AwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.DefaultAwsRegionProviderChain;
import software.amazon.awssdk.regions.providers.SystemSettingsRegionProvider;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.ChecksumAlgorithm;
import software.amazon.awssdk.services.s3.model.CommonPrefix;
import software.amazon.awssdk.services.s3.model.CompletedPart;
import software.amazon.awssdk.services.s3.model.CreateMultipartUploadRequest;
import software.amazon.awssdk.services.s3.model.DeleteObjectsResponse;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Request;
import software.amazon.awssdk.services.s3.model.ListObjectsV2Response;
import software.amazon.awssdk.services.s3.model.ObjectIdentifier;
import software.amazon.awssdk.services.s3.model.S3Error;
import software.amazon.awssdk.services.s3.model.S3Exception;
import software.amazon.awssdk.services.s3.model.S3Object;
import software.amazon.awssdk.services.s3.model.UploadPartRequest;
import software.amazon.awssdk.services.s3.model.UploadPartResponse;

/**
 * Sets under S3 prefixes, with the protocol of {@link ArtifactStore}: a set is the objects directly
 * under {@code s3://bucket/key/}; readers trust it only when its commit object is there.
 *
 * <p><b>Publishing</b> follows {@link ArtifactStore}'s protocol with S3's conditional writes.
 * {@link #stage} creates {@code .publish.lease} under the prefix with {@code If-None-Match: *}; when
 * it exists, the lease is read: a live one is a {@link PublishConflictException}, an expired one
 * (not renewed for its time to live, by the server's {@code Date} and the lease's
 * {@code Last-Modified}) or one of a dead process on this host is taken over with {@code If-Match}
 * on its ETag, so one taker wins; the taker reads the lease back to know that its write stands. The
 * heartbeat renews it with {@code If-Match} too. {@link Staging#commit()} lists the prefix, writes
 * the marker {@code .<commit object>.replacing} and, if a set is committed there, deletes the old
 * commit object (readers now see "being published", never a mix); uploads every other staged file
 * (files of {@link S3Settings#multipartThreshold()} bytes and more in parts, several at a time);
 * deletes the files of the old set (or of a publish that died, as its marker says) that the new one
 * does not have; renews the lease and creates the commit object; then deletes the marker and the
 * lease. Every request goes out only while the lease is surely held (each write and delete after
 * reading the lease back: on a server whose conditional writes are not atomic, such as S3Proxy's file
 * system backend, a second holder let through is noticed before it writes), and every write and delete is a
 * compare-and-swap against the listing taken under the lease ({@code If-Match} on the ETag of the
 * object replaced or deleted, {@code If-None-Match: *} for a new name and for the commit object), so
 * a writer frozen past its lease cannot change the set of the run that took it over. Where the
 * server has no conditional delete (S3Proxy answers 501), deletes go out right after the lease
 * check, and a lease is released after reading that it is still this writer's. A publish that dies
 * on the way leaves no commit object, so the set is absent until a publish completes, and its marker
 * tells that later publish to remove what it wrote. Unfinished multipart uploads are aborted when
 * possible.
 *
 * <p><b>Reading</b>: downloads stream into a local cache keyed by ETag ({@link ObjectCache}, bounded by
 * {@link S3Settings#cacheMaxSize()}), so a process never downloads the same object version twice. Each GET carries {@code If-Match} with
 * the ETag the listing gave: a set that changes between the listing and the download is detected
 * and read again once.
 *
 * <p><b>Configuration</b> is the standard AWS one: credentials and region from the default provider
 * chains, the endpoint from {@code AWS_ENDPOINT_URL_S3} / {@code AWS_ENDPOINT_URL} (read by the SDK),
 * path-style requests whenever an endpoint override is in effect, and the SDK's checksum settings
 * ({@code AWS_REQUEST_CHECKSUM_CALCULATION}). Retries (throttling, 5xx, I/O errors) are the SDK's
 * standard strategy with {@link S3Settings#maxAttempts()}.
 */
public final class S3Store implements ArtifactStore, AutoCloseable {

    private static final Logger LOG = Logger.getLogger(S3Store.class);
    /** S3 accepts at most this many parts per upload. */
    private static final long MAX_PARTS = 10_000;
    /** {@code .<commit object>.replacing}: present while a set is being published (and after a publish that died). */
    private static final String REPLACING = ".replacing";
    /** {@code .<name>.lease}: a lease object under the prefix it claims. */
    private static final String LEASE = ".lease";
    static final String PUBLISH_LEASE = "publish";

    private final S3Client s3;
    private final S3Settings settings;
    /** CRC32 per part on multipart uploads (the SDK's default, WHEN_SUPPORTED); none with WHEN_REQUIRED. */
    private final boolean partChecksums;
    private final Optional<URI> endpointOverride;
    private final S3Errors errors;
    private final ObjectCache cache;
    private final ExecutorService transfers;
    private final LeaseSettings leases;
    /** Whether the server honours If-Match on DeleteObject (S3 does; S3Proxy 4.0 answers 501). */
    private volatile boolean conditionalDeletes = true;

    private S3Store(S3Client s3, S3Settings settings, LeaseSettings leases, boolean partChecksums, Optional<URI> endpointOverride,
                    S3Errors errors) {
        this.s3 = s3;
        this.leases = leases;
        this.settings = settings;
        this.partChecksums = partChecksums;
        this.endpointOverride = endpointOverride;
        this.errors = errors;
        this.cache = new ObjectCache(settings.cacheDir(), settings.cacheMaxSize(), settings.cacheMaxShare());
        AtomicInteger threads = new AtomicInteger();
        this.transfers = Executors.newFixedThreadPool(settings.concurrency(), task -> {
            Thread thread = new Thread(task, "s3-transfer-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        cache.removeLeftovers();
    }

    /** A store configured by {@code settings} and the standard AWS configuration (environment, system properties, ~/.aws). */
    public static S3Store create(S3Settings settings) {
        return create(settings, LeaseSettings.defaults(), builder -> { });
    }

    /** As {@link #create(S3Settings)}, with leases and reader waits as {@code leases} says. */
    public static S3Store create(S3Settings settings, LeaseSettings leases) {
        return create(settings, leases, builder -> { });
    }

    /**
     * As {@link #create(S3Settings)}, with {@code customize} applied to the client builder last
     * (tests: credentials, request interceptors).
     */
    static S3Store create(S3Settings settings, Consumer<S3ClientBuilder> customize) {
        return create(settings, LeaseSettings.defaults(), customize);
    }

    /** As {@link #create(S3Settings, LeaseSettings)}, with {@code customize} applied to the client builder last. */
    static S3Store create(S3Settings settings, LeaseSettings leases, Consumer<S3ClientBuilder> customize) {
        RequestChecksumCalculation checksums = requestChecksumCalculation();
        Optional<Region> region = configuredRegion(settings.endpoint().isPresent());
        boolean pathStyle = settings.pathStyle().orElse(settings.endpoint().isPresent());
        S3Client client = client(settings, checksums, region.orElse(Region.US_EAST_1), pathStyle, customize);
        Optional<URI> override = client.serviceClientConfiguration().endpointOverride();
        if (override.isPresent() && settings.pathStyle().isEmpty() && !pathStyle) {
            // the endpoint came from AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL: S3-compatible servers want path-style requests
            client.close();
            client = client(settings, checksums, region.orElse(Region.US_EAST_1), true, customize);
        }
        if (region.isEmpty() && override.isEmpty()) {
            client.close();
            throw new StorageException("no AWS region is configured for S3: set AWS_REGION (or 'region' in ~/.aws/config"
                    + " for your AWS_PROFILE)");
        }
        String endpoint = override.map(uri -> "the S3 endpoint " + uri)
                .orElse("S3 in " + client.serviceClientConfiguration().region());
        String endpointSetting = settings.endpoint().isPresent() ? "the setting gpt2cls.store.s3.endpoint"
                : override.isPresent() ? "AWS_ENDPOINT_URL_S3 / AWS_ENDPOINT_URL" : "AWS_REGION";
        LOG.debugf("S3 store: %s, path-style %s, checksums %s, cache %s", endpoint, pathStyle || override.isPresent(),
                checksums, settings.cacheDir());
        return new S3Store(client, settings, leases, checksums == RequestChecksumCalculation.WHEN_SUPPORTED, override,
                new S3Errors(endpoint, endpointSetting, settings.maxAttempts()));
    }

    private static S3Client client(S3Settings settings, RequestChecksumCalculation checksums, Region region,
                                   boolean pathStyle, Consumer<S3ClientBuilder> customize) {
        S3ClientBuilder builder = S3Client.builder()
                .region(region)
                .forcePathStyle(pathStyle)
                .crossRegionAccessEnabled(true)
                .requestChecksumCalculation(checksums)
                .httpClientBuilder(Apache5HttpClient.builder().maxConnections(Math.max(10, 2 * settings.concurrency())))
                .overrideConfiguration(o -> o.retryStrategy(
                        AwsRetryStrategy.standardRetryStrategy().toBuilder().maxAttempts(settings.maxAttempts()).build()));
        settings.endpoint().ifPresent(builder::endpointOverride);
        customize.accept(builder);
        return builder.build();
    }

    /** The SDK's setting (system property, environment, profile), resolved here because multipart uploads depend on it. */
    private static RequestChecksumCalculation requestChecksumCalculation() {
        Optional<String> value = SdkSystemSetting.AWS_REQUEST_CHECKSUM_CALCULATION.getStringValue();
        if (value.isEmpty()) {
            try {
                String profile = ProfileFileSystemSetting.AWS_PROFILE.getStringValue().orElse("default");
                value = ProfileFile.defaultProfileFile().profile(profile)
                        .flatMap(p -> p.property(ProfileProperty.REQUEST_CHECKSUM_CALCULATION));
            } catch (RuntimeException unreadableProfile) {
                value = Optional.empty(); // the SDK reports a broken ~/.aws/config itself
            }
        }
        return switch (value.map(v -> v.strip().toLowerCase(Locale.ROOT)).orElse("when_supported")) {
            case "when_supported" -> RequestChecksumCalculation.WHEN_SUPPORTED;
            case "when_required" -> RequestChecksumCalculation.WHEN_REQUIRED;
            default -> throw new StorageException("AWS_REQUEST_CHECKSUM_CALCULATION (or request_checksum_calculation) is '"
                    + value.get() + "'; use when_supported or when_required");
        };
    }

    /** The configured region; without the EC2 metadata service when the endpoint is explicit (a local server needs none). */
    private static Optional<Region> configuredRegion(boolean explicitEndpoint) {
        AwsRegionProvider chain = explicitEndpoint
                ? new AwsRegionProviderChain(new SystemSettingsRegionProvider(), new AwsProfileRegionProvider())
                : new DefaultAwsRegionProviderChain();
        try {
            return Optional.of(chain.getRegion());
        } catch (SdkClientException none) {
            return Optional.empty();
        }
    }

    /** The endpoint override in effect (from the settings or the SDK's environment), if any. */
    Optional<URI> endpointOverride() {
        return endpointOverride;
    }

    @Override
    public void close() {
        transfers.shutdownNow();
        s3.close();
    }

    // ---- reading --------------------------------------------------------------------------------

    @Override
    public Path fetchFile(Location location) throws IOException {
        if (location.key().isEmpty()) {
            throw new StorageException("'" + location + "' names a bucket, not a file");
        }
        for (int attempt = 1; ; attempt++) {
            // a LIST, not a HEAD: a role may read keys it cannot HEAD when they are missing (S3 then answers 403, not 404)
            S3Object found = find(location, location).orElseThrow(() -> notFound(location));
            try {
                return download(location, found.eTag());
            } catch (ObjectChanged changed) {
                if (attempt == 2) {
                    throw new StorageException("'" + location + "' changed twice while it was being downloaded (another"
                            + " process is writing it); try again when it has finished");
                }
            }
        }
    }

    /** One download with If-Match on {@code version} (the ETag), cached by it as every download is. */
    @Override
    public Path fetchFile(Location location, String version) throws IOException {
        try {
            return download(location, version);
        } catch (ObjectChanged changed) {
            throw StorageException.replacedSincePlanned(location, version, null, changed);
        }
    }

    @Override
    public Path fetchSet(Location location, String commitObject) throws IOException {
        long deadline = System.nanoTime() + leases.readerWait().toNanos();
        for (int attempt = 1; ; attempt++) {
            SortedMap<String, String> etags = committedSet(location, commitObject);
            List<String> names = List.copyOf(etags.keySet());
            List<Path> downloaded = Collections.synchronizedList(new ArrayList<>()); // pinned until the set holds them
            List<Callable<Path>> downloads = names.stream()
                    .<Callable<Path>>map(name -> () -> {
                        Path file = download(location.resolve(name), etags.get(name));
                        downloaded.add(file);
                        return file;
                    })
                    .toList();
            try {
                List<Path> paths = runAll(downloads);
                // A listing is no snapshot: it may show an old commit object beside a newer file, and a cached file
                // is not downloaded (so not checked against the server). The set read is one state of the prefix
                // only if a second listing after the downloads shows the same names and ETags.
                if (!etags.equals(etagsOf(list(location, Action.LIST)))) {
                    throw new ObjectChanged(location);
                }
                Map<String, Path> files = new LinkedHashMap<>();
                for (int i = 0; i < names.size(); i++) {
                    files.put(names.get(i), paths.get(i));
                }
                return cache.set(location.bucket(), location.key(), etags, files);
            } catch (ObjectChanged changed) {
                if (System.nanoTime() > deadline) {
                    throw new PublishConflictException("the set at '" + location + "' kept changing while it was being"
                            + " downloaded for " + leases.readerWait().toSeconds() + " s (another run is publishing or"
                            + " deleting it); try again when it has finished", null);
                }
                LOG.infof("the set at %s changed while it was being downloaded (attempt %d); reading it again", location, attempt);
                HeldLease.backOff(attempt);
            } finally {
                for (Path file : downloaded) {
                    cache.release(file);
                }
            }
        }
    }

    /** A hash of the set's object names and ETags, from one listing (the name of the set's cache directory too). */
    @Override
    public String version(Location location, String commitObject) throws IOException {
        return ObjectCache.version(committedSet(location, commitObject));
    }

    /**
     * The set's file names and ETags from one listing; a set without its commit object is not there.
     * While a live publish lease says a publish is under way, waits for it (bounded by
     * {@link LeaseSettings#readerWait()}).
     */
    private SortedMap<String, String> committedSet(Location location, String commitObject) throws IOException {
        long deadline = System.nanoTime() + leases.readerWait().toNanos();
        Listing listing = list(location, Action.LIST);
        for (int attempt = 1; !listing.files().containsKey(location.keyPrefix() + commitObject); attempt++) {
            Optional<LeaseObject> publishing = listing.hidden().contains(leaseKey(location, PUBLISH_LEASE))
                    ? readLease(location, PUBLISH_LEASE).filter(lease -> !lease.expired() && !lease.record().holderGone())
                    : Optional.empty();
            if (publishing.isEmpty()) {
                throw new ArtifactNotFoundException("'" + location + "' has no " + commitObject
                        + ": nothing was published there" + (listing.files().isEmpty() ? "" : ", or a publish there died"
                        + " before its end (the next publish repairs it)"));
            }
            if (System.nanoTime() > deadline) {
                throw new PublishConflictException("'" + location + "' is being published by " + publishing.get().record().describe()
                        + " (waited " + leases.readerWait().toSeconds() + " s); try again when it has finished", publishing.get().record());
            }
            HeldLease.backOff(attempt);
            listing = list(location, Action.LIST);
        }
        return etagsOf(listing);
    }

    /** The names and ETags of the set's files in a listing. */
    private static SortedMap<String, String> etagsOf(Listing listing) {
        SortedMap<String, String> etags = new TreeMap<>();
        listing.files().forEach((key, object) -> etags.put(key.substring(key.lastIndexOf('/') + 1), object.eTag()));
        return etags;
    }

    @Override
    public String fileVersion(Location location) throws IOException {
        return find(location, location).orElseThrow(() -> notFound(location)).eTag();
    }

    @Override
    public void release(Path fetched) throws IOException {
        cache.release(fetched);
    }

    @Override
    public boolean exists(Location location, String commitObject) throws IOException {
        return find(location.resolve(commitObject), location).isPresent();
    }

    /**
     * The object at exactly this key: the first key a listing from it returns, since keys list in
     * order. Errors name {@code asked}, the location the caller gave.
     */
    private Optional<S3Object> find(Location object, Location asked) {
        try {
            ListObjectsV2Response page = s3.listObjectsV2(b -> b.bucket(object.bucket()).prefix(object.key()).maxKeys(1));
            return page.contents().stream().filter(o -> o.key().equals(object.key())).findFirst();
        } catch (SdkException e) {
            throw errors.translate(Action.LIST, asked, e);
        }
    }

    /** One LIST, as {@link #fetchFile} finds an object. */
    @Override
    public FileInfo fileInfo(Location location) {
        S3Object found = find(location, location).orElseThrow(() -> notFound(location));
        return new FileInfo(found.size(), found.eTag());
    }

    @Override
    public List<Location> listFiles(Location location) throws IOException {
        return list(location, Action.LIST).files().keySet().stream()
                .map(key -> location.resolve(nameIn(location, key)))
                .toList();
    }

    /** One listing of everything below {@code location}: the sets are the names whose commit object is there. */
    @Override
    public List<String> listSets(Location location, String commitObject) throws IOException {
        String prefix = location.keyPrefix();
        SortedSet<String> sets = new TreeSet<>();
        ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(location.bucket()).prefix(prefix).build();
        try {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(request)) {
                for (S3Object object : page.contents()) {
                    String below = object.key().substring(prefix.length());
                    int slash = below.indexOf('/');
                    if (slash > 0 && below.substring(slash + 1).equals(commitObject) && !below.startsWith(".")) {
                        sets.add(below.substring(0, slash));
                    }
                }
            }
        } catch (SdkException e) {
            throw errors.translate(Action.LIST, location, e);
        }
        return List.copyOf(sets);
    }

    /** A GetObject with a Range header and If-Match on the ETag; a range past the object's end is empty. */
    @Override
    public InputStream openRange(Location location, String version, long offset, long length) {
        if (length <= 0) {
            return InputStream.nullInputStream();
        }
        try {
            return s3.getObject(b -> b.bucket(location.bucket()).key(location.key()).ifMatch(version)
                    .range("bytes=" + offset + "-" + (offset + length - 1)));
        } catch (S3Exception e) {
            if (e.statusCode() == 416) {
                return InputStream.nullInputStream(); // the range starts past the object's end
            }
            if (e.statusCode() == 412) {
                throw StorageException.replacedSincePlanned(location, version, null, e);
            }
            throw errors.translate(Action.READ, location, e);
        } catch (SdkException e) {
            throw errors.translate(Action.READ, location, e);
        }
    }

    /** Downloads one object version into the cache (once per ETag), refusing any other version; pinned until released. */
    private Path download(Location object, String etag) throws IOException {
        if (etag == null) { // listed while it was being written (S3Proxy's file system backend)
            throw new ObjectChanged(object);
        }
        Path target = cache.object(object.bucket(), object.key(), etag, object.name());
        Path cached = cache.reuse(target);
        if (cached != null) {
            return cached;
        }
        try {
            return s3.getObject(b -> b.bucket(object.bucket()).key(object.key()).ifMatch(etag), (response, in) -> {
                try {
                    return cache.receive(in, response.contentLength(), target);
                } catch (IOException e) { // the connection broke mid-body: the SDK retries the GET, as it does for toFile()
                    throw RetryableException.builder().message("reading " + object + ": " + e.getMessage()).cause(e).build();
                }
            });
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 404) {
                throw new ObjectChanged(object);
            }
            throw errors.translate(Action.READ, object, e);
        } catch (SdkException e) {
            for (Throwable cause = e.getCause(); cause != null; cause = cause.getCause()) {
                if (cause instanceof StorageException full) {
                    throw full; // no room in the cache (the SDK wraps it twice): its own message says what to change
                }
            }
            throw errors.translate(Action.READ, object, e);
        }
    }

    /** A listed object was replaced or deleted before it could be downloaded. */
    private static final class ObjectChanged extends IOException {
        ObjectChanged(Location object) {
            super(object + " changed after it was listed");
        }
    }

    /** Nothing at {@code location}: a missing file, or (the clearer message) a missing bucket. */
    private StorageException notFound(Location location) {
        try {
            s3.headBucket(b -> b.bucket(location.bucket()));
        } catch (S3Exception e) {
            if (e.statusCode() == 404) {
                return errors.rejected(Action.READ, location, "NoSuchBucket", 404, null, e);
            }
        } catch (SdkException e) {
            // the file is missing either way; the original answer stands
        }
        return new ArtifactNotFoundException("nothing at '" + location + "'");
    }

    /**
     * What is directly under a location's prefix: the set's objects by key, the keys of hidden objects
     * (names starting with '.', not part of any set), and the names of the prefixes below.
     */
    private record Listing(SortedMap<String, S3Object> files, Set<String> hidden, List<String> dirs) {}

    private Listing list(Location location, Action action) {
        String prefix = location.keyPrefix();
        SortedMap<String, S3Object> files = new TreeMap<>();
        Set<String> hidden = new TreeSet<>();
        Set<String> dirs = new TreeSet<>();
        ListObjectsV2Request request = ListObjectsV2Request.builder().bucket(location.bucket()).prefix(prefix).delimiter("/").build();
        try {
            for (ListObjectsV2Response page : s3.listObjectsV2Paginator(request)) {
                for (S3Object object : page.contents()) {
                    String name = object.key().substring(prefix.length());
                    if (name.startsWith(".")) {
                        hidden.add(object.key());
                    } else if (!name.isEmpty()) { // "" is a console's folder marker
                        files.put(object.key(), object);
                    }
                }
                for (CommonPrefix below : page.commonPrefixes()) {
                    String name = below.prefix().substring(prefix.length(), below.prefix().length() - 1);
                    if (!name.isEmpty() && !name.startsWith(".")) {
                        dirs.add(name);
                    }
                }
            }
        } catch (SdkException e) {
            throw errors.translate(action, location, e);
        }
        return new Listing(files, hidden, List.copyOf(dirs));
    }

    private static String nameIn(Location location, String key) {
        return key.substring(location.keyPrefix().length());
    }

    // ---- writing --------------------------------------------------------------------------------

    @Override
    public Staging stage(Location location, String commitObject, String purpose) throws IOException {
        try { // fail now, not after the work: a missing bucket, wrong credentials, an unreachable endpoint
            s3.listObjectsV2(b -> b.bucket(location.bucket()).prefix(location.keyPrefix()).maxKeys(1));
        } catch (SdkException e) {
            throw errors.translate(Action.LIST, location, e);
        }
        S3Lease lease = acquire(location, PUBLISH_LEASE, purpose, null);
        try {
            return new S3Staging(location, commitObject, cache.newStagingDir(), lease);
        } catch (IOException | RuntimeException e) {
            lease.close();
            throw e;
        }
    }

    @Override
    public Lease lease(Location location, String name, String purpose, String run) throws IOException {
        return acquire(location, name, purpose, run);
    }

    @Override
    public void deleteSet(Location location, String commitObject) throws IOException {
        try (S3Lease lease = acquire(location, PUBLISH_LEASE, "delete", null)) {
            Listing listing = list(location, Action.LIST);
            String commitKey = location.keyPrefix() + commitObject;
            if (listing.files().containsKey(commitKey)) {
                deleteKeys(location, List.of(commitKey));
            }
            List<String> rest = new ArrayList<>(listing.hidden().stream().filter(key -> !key.endsWith(LEASE)).toList());
            listing.files().keySet().stream().filter(key -> !key.equals(commitKey)).forEach(rest::add);
            lease.requireValid();
            deleteKeys(location, rest);
        }
    }

    private final class S3Staging implements Staging {
        private final Location location;
        private final String commitObject;
        private final Path dir;
        private final S3Lease lease;
        private boolean committed;

        S3Staging(Location location, String commitObject, Path dir, S3Lease lease) {
            this.location = location;
            this.commitObject = commitObject;
            this.dir = dir;
            this.lease = lease;
        }

        @Override
        public Path dir() {
            return dir;
        }

        @Override
        public void commit() throws IOException {
            List<String> names = ObjectCache.visibleFiles(dir);
            if (!names.contains(commitObject)) {
                throw new IllegalStateException("the set staged for " + location + " has no " + commitObject);
            }
            lease.check();
            Listing before = list(location, Action.LIST);
            String commitKey = location.keyPrefix() + commitObject;
            String markerKey = location.keyPrefix() + "." + commitObject + REPLACING;
            // The old set's files, or those of a publish that died here (its marker says so), are this publish's to
            // replace. The marker, written before anything else, outlives this process: if it dies, the next
            // publish removes what it wrote.
            boolean replacing = before.files().containsKey(commitKey) || before.hidden().contains(markerKey);
            putMarker(location.resolve("." + commitObject + REPLACING));
            if (before.files().containsKey(commitKey)) {
                lease.confirm();
                deleteIfUnchanged(location, Map.of(commitKey, before.files().get(commitKey))); // readers now see no set, never a mix
            }
            // Each write is a compare-and-swap against what this writer listed under its lease, so a writer
            // frozen past its lease cannot overwrite a file of the run that took the lease over.
            Map<String, String> listed = new TreeMap<>();
            before.files().forEach((key, object) -> listed.put(nameIn(location, key), object.eTag()));
            listed.remove(commitObject);
            upload(names.stream().filter(name -> !name.equals(commitObject)).toList(), listed);
            if (replacing) { // before the commit: readers of the new set must not list the old one's other files
                Set<String> current = new TreeSet<>(names);
                SortedMap<String, S3Object> stale = new TreeMap<>(before.files());
                stale.keySet().removeIf(key -> key.equals(commitKey) || current.contains(nameIn(location, key)));
                lease.confirm();
                deleteIfUnchanged(location, stale);
            }
            lease.check();
            upload(List.of(commitObject), Map.of());
            committed = true;
            try {
                lease.requireValid();
                deleteKeys(location, List.of(markerKey));
            } catch (PublishConflictException lost) { // committed; the marker is the next writer's business now
                LOG.warnf("published %s, but left its marker: %s", location, lost.getMessage());
            }
            LOG.debugf("published %s (%d files)", location, names.size());
            close();
        }

        @Override
        public void close() throws IOException {
            try {
                Directories.deleteTree(dir);
            } finally {
                lease.close();
            }
        }

        /**
         * Uploads the staged files: small ones whole, large ones in parts; all of it several requests
         * at a time, each only while the lease is surely held. A name in {@code listed} replaces only
         * that version ({@code If-Match} on its ETag), any other name is created only where nothing is
         * ({@code If-None-Match: *}).
         */
        private void upload(List<String> names, Map<String, String> listed) throws IOException {
            List<Callable<Void>> requests = new ArrayList<>();
            List<MultipartUpload> multiparts = new ArrayList<>();
            try {
                for (String name : names) {
                    Path file = dir.resolve(name);
                    Location target = location.resolve(name);
                    long size = Files.size(file);
                    if (size < settings.multipartThreshold()) {
                        requests.add(() -> {
                            lease.confirm();
                            putObject(target, file, listed.get(name));
                            return null;
                        });
                    } else {
                        MultipartUpload upload = new MultipartUpload(target, file, size, lease, listed.get(name));
                        multiparts.add(upload);
                        requests.addAll(upload.parts());
                    }
                }
                runAll(requests);
                for (MultipartUpload upload : multiparts) {
                    lease.confirm();
                    upload.complete();
                }
            } catch (IOException | RuntimeException e) {
                multiparts.forEach(MultipartUpload::abortQuietly);
                throw e;
            }
        }
    }

    private void putMarker(Location target) {
        try {
            s3.putObject(b -> b.bucket(target.bucket()).key(target.key()), RequestBody.empty());
        } catch (SdkException e) {
            throw errors.translate(Action.WRITE, target, e);
        }
    }

    /** Writes {@code file} at {@code target}: replacing only version {@code replacedEtag}, or only where nothing is when null. */
    private void putObject(Location target, Path file, String replacedEtag) {
        try {
            s3.putObject(b -> b.bucket(target.bucket()).key(target.key()).ifMatch(replacedEtag)
                    .ifNoneMatch(replacedEtag == null ? "*" : null), RequestBody.fromFile(file));
        } catch (S3Exception e) {
            if (holds(target, file)) {
                return; // an attempt whose answer was lost had written it: the SDK's retry met its own write
            }
            throw e.statusCode() == 412 || e.statusCode() == 404 ? changedMeanwhile(target, e) : errors.translate(Action.WRITE, target, e);
        } catch (SdkException e) {
            if (holds(target, file)) { // a server that answers a refused upload early and closes the connection
                return;
            }
            throw errors.translate(Action.WRITE, target, e);
        }
    }

    /** Whether the object at {@code target} is {@code file}, byte for byte: its ETag is the file's MD5 (a single-part upload). */
    private boolean holds(Location target, Path file) {
        try {
            String etag = s3.headObject(b -> b.bucket(target.bucket()).key(target.key())).eTag();
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            try (InputStream in = Files.newInputStream(file)) {
                byte[] buffer = new byte[1 << 16];
                for (int n; (n = in.read(buffer)) > 0; ) {
                    md5.update(buffer, 0, n);
                }
            }
            return etag != null && etag.replace("\"", "").equals(HexFormat.of().formatHex(md5.digest()));
        } catch (SdkException | IOException | NoSuchAlgorithmException unknown) {
            return false;
        }
    }

    /** An object changed while this writer held the lease: its lease was taken over, and another run wrote there. */
    private PublishConflictException changedMeanwhile(Location target, Throwable cause) {
        PublishConflictException conflict = new PublishConflictException(target + " was written by another run while this one"
                + " was publishing (this run's lease had expired and was taken over); this run stopped and committed nothing", null);
        conflict.initCause(cause);
        return conflict;
    }

    /** One file uploaded in parts; nothing is visible under its key until {@link #complete()}. */
    private final class MultipartUpload {
        private final Location target;
        private final Path file;
        private final long size;
        private final long partSize;
        private final String uploadId;
        private final CompletedPart[] completed;
        private final S3Lease lease;
        /** The version this upload replaces ({@code If-Match}), or null: only where nothing is ({@code If-None-Match: *}). */
        private final String replacedEtag;
        private boolean done;

        MultipartUpload(Location target, Path file, long size, S3Lease lease, String replacedEtag) {
            this.lease = lease;
            this.replacedEtag = replacedEtag;
            this.target = target;
            this.file = file;
            this.size = size;
            this.partSize = Math.max(settings.partSize(), (size + MAX_PARTS - 1) / MAX_PARTS);
            this.completed = new CompletedPart[(int) Math.max(1, (size + partSize - 1) / partSize)];
            CreateMultipartUploadRequest.Builder request = CreateMultipartUploadRequest.builder()
                    .bucket(target.bucket()).key(target.key());
            if (partChecksums) {
                request.checksumAlgorithm(ChecksumAlgorithm.CRC32);
            }
            try {
                this.uploadId = s3.createMultipartUpload(request.build()).uploadId();
            } catch (SdkException e) {
                throw errors.translate(Action.WRITE, target, e);
            }
        }

        List<Callable<Void>> parts() {
            List<Callable<Void>> parts = new ArrayList<>();
            for (int i = 0; i < completed.length; i++) {
                int index = i;
                parts.add(() -> {
                    uploadPart(index);
                    return null;
                });
            }
            return parts;
        }

        private void uploadPart(int index) throws PublishConflictException {
            lease.requireValid();
            long offset = index * partSize;
            long length = Math.min(partSize, size - offset);
            UploadPartRequest.Builder request = UploadPartRequest.builder().bucket(target.bucket()).key(target.key())
                    .uploadId(uploadId).partNumber(index + 1).contentLength(length);
            if (partChecksums) {
                request.checksumAlgorithm(ChecksumAlgorithm.CRC32);
            }
            try {
                UploadPartResponse response = s3.uploadPart(request.build(),
                        RequestBody.fromContentProvider(() -> slice(file, offset, length), length, "application/octet-stream"));
                completed[index] = CompletedPart.builder().partNumber(index + 1).eTag(response.eTag())
                        .checksumCRC32(response.checksumCRC32()).build();
            } catch (SdkException e) {
                throw errors.translate(Action.WRITE, target, e);
            }
        }

        void complete() {
            try {
                s3.completeMultipartUpload(b -> b.bucket(target.bucket()).key(target.key()).uploadId(uploadId)
                        .ifMatch(replacedEtag).ifNoneMatch(replacedEtag == null ? "*" : null).multipartUpload(m -> m.parts(completed)));
                done = true;
            } catch (S3Exception e) {
                throw e.statusCode() == 412 || e.statusCode() == 404 ? changedMeanwhile(target, e)
                        : errors.translate(Action.WRITE, target, e);
            } catch (SdkException e) {
                throw errors.translate(Action.WRITE, target, e);
            }
        }

        void abortQuietly() {
            if (done) {
                return;
            }
            try {
                s3.abortMultipartUpload(b -> b.bucket(target.bucket()).key(target.key()).uploadId(uploadId));
            } catch (SdkException e) {
                LOG.warnf("could not abort the unfinished multipart upload of %s (%s); its parts stay billed until a bucket"
                        + " lifecycle rule (AbortIncompleteMultipartUpload) removes them", target, e.getMessage());
            }
        }
    }

    // ---- leases ---------------------------------------------------------------------------------

    private static String leaseKey(Location location, String name) {
        return location.keyPrefix() + "." + name + LEASE;
    }

    /**
     * A lease object as read: what it says, its ETag (for a compare-and-swap), and whether it expired:
     * not renewed for its time to live, measured on the server's clock ({@code Date} against
     * {@code Last-Modified}), so the clocks of writers on other machines do not matter.
     */
    private record LeaseObject(LeaseRecord record, String etag, boolean expired) {}

    private Optional<LeaseObject> readLease(Location location, String name) throws IOException {
        String key = leaseKey(location, name);
        ResponseBytes<GetObjectResponse> object;
        try {
            object = s3.getObjectAsBytes(b -> b.bucket(location.bucket()).key(key));
        } catch (NoSuchKeyException gone) {
            return Optional.empty();
        } catch (SdkException e) {
            throw errors.translate(Action.READ, location.resolve("." + name + LEASE), e);
        }
        LeaseRecord record;
        try {
            record = LeaseRecord.parse(object.asByteArray());
        } catch (IOException unreadable) { // not one of ours, or cut short: treat it as expired, whoever wrote it
            LOG.warnf("the lease object s3://%s/%s is unreadable (%s); taking it over", location.bucket(), key, unreadable.getMessage());
            return Optional.of(new LeaseObject(new LeaseRecord("unknown", null, null, 0, 0, "", "unknown", 0), object.response().eTag(), true));
        }
        Instant serverNow = object.response().sdkHttpResponse().firstMatchingHeader("Date")
                .map(date -> Instant.from(DateTimeFormatter.RFC_1123_DATE_TIME.parse(date))).orElse(Instant.now());
        Instant renewed = object.response().lastModified();
        boolean expired = renewed != null && Duration.between(renewed, serverNow).getSeconds() > record.ttlSeconds();
        return Optional.of(new LeaseObject(record, object.response().eTag(), expired));
    }

    /**
     * Takes the lease: creates it if absent; takes it over (compare-and-swap on its ETag) when it
     * expired, its holder died on this host, or it is held under the same explicit run name.
     */
    private S3Lease acquire(Location location, String name, String purpose, String run) throws IOException {
        LeaseRecord mine = LeaseRecord.mine(run, purpose, leases.ttl());
        HeldLease.taking(mine.token());
        try {
            return take(location, name, run, mine);
        } catch (IOException | RuntimeException e) {
            HeldLease.notTaken(mine.token());
            throw e;
        }
    }

    private S3Lease take(Location location, String name, String run, LeaseRecord mine) throws IOException {
        Location lease = location.resolve("." + name + LEASE);
        Optional<LeaseObject> held = Optional.empty();
        for (int attempt = 1; attempt <= 5; attempt++) {
            Optional<LeaseObject> previous = held;
            putLease(lease, mine, previous.map(LeaseObject::etag).orElse(null));
            // Read back whether this run's write is the one that stands: the answer to the write may be lost (and the
            // retry refused). And a server whose conditional writes are not atomic (S3Proxy's file system backend
            // checks, then writes) may let a second writer through just after this one: read back after a pause, so
            // that its write has landed and the first writer sees it lost. S3's own conditional writes are atomic.
            HeldLease.backOff(2);
            held = readLease(location, name);
            if (held.isPresent() && held.get().record().token().equals(mine.token())) {
                previous.ifPresent(taken -> LOG.infof("took over the lease on %s from %s (%s)", location, taken.record().describe(),
                        taken.expired() ? "it expired" : taken.record().holderGone() ? "its process is gone" : "same run"));
                S3Lease taken = new S3Lease(location, name, lease, mine, held.get().etag());
                taken.keepAlive();
                return taken;
            }
            if (held.isPresent() && !held.get().expired() && !held.get().record().holderGone()
                    && !(run != null && run.equals(held.get().record().run()))) {
                LeaseRecord holder = held.get().record();
                throw new PublishConflictException(location + " is held by " + holder.describe() + " (lease " + lease.name()
                        + "; it ends when that run finishes, or " + holder.ttlSeconds() + " s after it stops renewing it if it"
                        + " died); nothing was written. Try again later, or write somewhere else", holder);
            }
        }
        throw new PublishConflictException("could not take the lease on " + location + ": other runs kept taking and giving it"
                + " back; try again", null);
    }

    /** Creates the lease object ({@code ifMatch} null: only if absent) or swaps it; the new ETag, or empty when another run won. */
    private Optional<String> putLease(Location lease, LeaseRecord record, String ifMatch) {
        try {
            return Optional.of(s3.putObject(b -> b.bucket(lease.bucket()).key(lease.key()).contentType("application/json")
                    .ifNoneMatch(ifMatch == null ? "*" : null).ifMatch(ifMatch), RequestBody.fromBytes(record.toJson())).eTag());
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 404 || e.statusCode() == 409) { // 409: a concurrent conditional write
                return Optional.empty();
            }
            throw errors.translate(Action.WRITE, lease, e);
        } catch (SdkException e) {
            throw errors.translate(Action.WRITE, lease, e);
        }
    }

    private final class S3Lease extends HeldLease {
        private final String name;
        private final Location object;
        private volatile String etag;

        S3Lease(Location location, String name, Location object, LeaseRecord record, String etag) {
            super(location, record, leases.ttl());
            this.name = name;
            this.object = object;
            this.etag = etag;
        }

        /**
         * Reads the lease and fails unless it is still this run's: before each write, so that on a server whose
         * conditional writes are not atomic a second holder let through is noticed before this one writes more.
         */
        void confirm() throws IOException {
            requireValid();
            Optional<LeaseObject> now = readLease(location, name);
            if (now.isEmpty() || !now.get().record().token().equals(record.token())) {
                lost(new PublishConflictException("lost the lease on " + location + ": "
                        + now.map(l -> l.record().describe() + " holds it").orElse("it is gone") + "; stopped writing there",
                        now.map(LeaseObject::record).orElse(null)));
            }
        }

        @Override
        void renew() throws IOException {
            Optional<String> renewed = putLease(object, record, etag);
            if (renewed.isEmpty()) {
                Optional<LeaseObject> now = readLease(location, name);
                if (now.isPresent() && now.get().record().token().equals(record.token())) { // a retried request had succeeded
                    etag = now.get().etag();
                    return;
                }
                throw new PublishConflictException("lost the lease on " + location + ": it expired and "
                        + now.map(l -> l.record().describe()).orElse("another run") + " took it over; stopped writing there",
                        now.map(LeaseObject::record).orElse(null));
            }
            etag = renewed.get();
        }

        @Override
        void release() {
            try {
                if (conditionalDeletes) {
                    try {
                        s3.deleteObject(b -> b.bucket(object.bucket()).key(object.key()).ifMatch(etag));
                        return;
                    } catch (S3Exception e) {
                        if (e.statusCode() == 412 || e.statusCode() == 404) {
                            return; // taken over meanwhile: it is not ours to delete
                        }
                        if (e.statusCode() != 501) {
                            throw e;
                        }
                        conditionalDeletes = false;
                        LOG.debugf("the S3 endpoint has no conditional DeleteObject; releasing leases after checking their ETag");
                    }
                }
                // no conditional deletes here: delete it if it is still this lease (a small window, not a guarantee)
                String current = s3.headObject(b -> b.bucket(object.bucket()).key(object.key())).eTag();
                if (current.equals(etag)) {
                    s3.deleteObject(b -> b.bucket(object.bucket()).key(object.key()));
                }
            } catch (NoSuchKeyException gone) {
                // released already
            } catch (S3Exception e) {
                if (e.statusCode() != 404) {
                    LOG.warnf("could not release the lease %s (%s); it expires %d s after its last renewal", object,
                            e.getMessage(), record.ttlSeconds());
                }
            } catch (SdkException e) {
                LOG.warnf("could not release the lease %s (%s); it expires %d s after its last renewal", object,
                        e.getMessage(), record.ttlSeconds());
            }
        }
    }

    /** {@code length} bytes of {@code file} from {@code offset}, streamed: a part is never held in memory. */
    static InputStream slice(Path file, long offset, long length) {
        try {
            FileChannel channel = FileChannel.open(file, StandardOpenOption.READ).position(offset);
            return new FilterInputStream(Channels.newInputStream(channel)) {
                private long left = length;

                @Override
                public int read() throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int b = super.read();
                    if (b >= 0) {
                        left--;
                    }
                    return b;
                }

                @Override
                public int read(byte[] buffer, int off, int len) throws IOException {
                    if (left <= 0) {
                        return -1;
                    }
                    int n = super.read(buffer, off, (int) Math.min(len, left));
                    if (n > 0) {
                        left -= n;
                    }
                    return n;
                }

                @Override
                public long skip(long n) throws IOException {
                    long skipped = super.skip(Math.min(n, left));
                    left -= skipped;
                    return skipped;
                }

                @Override
                public int available() throws IOException {
                    return (int) Math.min(super.available(), left);
                }
            };
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Deletes each of these listed objects only if it is still the version listed ({@code If-Match}), so
     * a writer frozen past its lease cannot delete what the run that took the lease over wrote. On a
     * server without conditional deletes (S3Proxy answers 501) they are deleted as listed, right after
     * the caller's check that its lease still holds.
     */
    private void deleteIfUnchanged(Location location, Map<String, S3Object> objects) {
        if (conditionalDeletes) {
            for (S3Object object : objects.values()) {
                try {
                    s3.deleteObject(b -> b.bucket(location.bucket()).key(object.key()).ifMatch(object.eTag()));
                } catch (S3Exception e) {
                    if (e.statusCode() == 412) {
                        throw changedMeanwhile(location.resolve(nameIn(location, object.key())), e);
                    }
                    if (e.statusCode() == 404) {
                        continue; // gone already
                    }
                    if (e.statusCode() != 501) {
                        throw errors.translate(Action.DELETE, location, e);
                    }
                    conditionalDeletes = false;
                    LOG.debugf("the S3 endpoint has no conditional DeleteObject; deleting as listed");
                    break;
                } catch (SdkException e) {
                    throw errors.translate(Action.DELETE, location, e);
                }
            }
            if (conditionalDeletes) {
                return;
            }
        }
        deleteKeys(location, List.copyOf(objects.keySet()));
    }

    private void deleteKeys(Location location, List<String> keys) {
        for (int from = 0; from < keys.size(); from += 1000) {
            List<ObjectIdentifier> batch = keys.subList(from, Math.min(keys.size(), from + 1000)).stream()
                    .map(key -> ObjectIdentifier.builder().key(key).build()).toList();
            DeleteObjectsResponse response;
            try {
                response = s3.deleteObjects(b -> b.bucket(location.bucket()).delete(d -> d.objects(batch).quiet(true)));
            } catch (SdkException e) {
                throw errors.translate(Action.DELETE, location, e);
            }
            if (!response.errors().isEmpty()) {
                S3Error error = response.errors().get(0);
                throw errors.rejected(Action.DELETE, location.resolve(nameIn(location, error.key())), error.code(),
                        "AccessDenied".equals(error.code()) ? 403 : 500, error.message(), null);
            }
        }
    }

    /**
     * Runs the requests several at a time; after the first failure the requests not yet started are
     * skipped, and the failure is thrown as it was once every request under way has ended: a writer gives
     * its lease back only when nothing it sent can still land.
     */
    private <T> List<T> runAll(List<Callable<T>> requests) throws IOException {
        if (requests.size() == 1) {
            try {
                return java.util.Collections.singletonList(requests.get(0).call());
            } catch (IOException | RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        AtomicBoolean failed = new AtomicBoolean();
        List<Future<T>> futures = new ArrayList<>();
        for (Callable<T> request : requests) {
            futures.add(transfers.submit(() -> {
                if (failed.get()) {
                    return null; // skipped: another request failed
                }
                try {
                    return request.call();
                } catch (Exception e) {
                    failed.set(true);
                    throw e;
                }
            }));
        }
        List<T> results = new ArrayList<>();
        Throwable first = null;
        try {
            for (Future<T> future : futures) {
                try {
                    results.add(future.get());
                } catch (ExecutionException e) {
                    first = first == null ? e.getCause() : first;
                }
            }
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while transferring to or from S3");
        }
        if (first instanceof IOException io) {
            throw io;
        }
        if (first instanceof RuntimeException runtime) {
            throw runtime;
        }
        if (first != null) {
            throw new IllegalStateException(first);
        }
        return results;
    }
}
