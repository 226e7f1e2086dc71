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
import java.util.ArrayList;
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
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import io.gpt2cls.storage.S3Errors.Action;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.core.SdkSystemSetting;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.core.sync.ResponseTransformer;
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
 * <p><b>Publishing</b> ({@link Staging#commit()}): list the prefix; if a set is committed there,
 * write the hidden marker {@code .<commit object>.replacing} and delete the old commit object
 * (readers now see nothing, never a mix); upload every other staged file (files of
 * {@link S3Settings#multipartThreshold()} bytes and more in parts, several at a time); upload the
 * commit object last; then delete the objects of the old set that the new one does not have, and
 * the marker. A publish that dies on the way leaves no commit object, so the set is absent until a
 * publish completes; the marker tells that later publish to remove the old set's leftovers. Unfinished
 * multipart uploads are aborted when possible.
 *
 * <p><b>Reading</b>: downloads stream into a local cache keyed by ETag ({@link ObjectCache}), so a
 * process never downloads the same object version twice. Each GET carries {@code If-Match} with
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
    /** {@code .<commit object>.replacing}: present while a committed set is being replaced. */
    private static final String REPLACING = ".replacing";

    private final S3Client s3;
    private final S3Settings settings;
    /** CRC32 per part on multipart uploads (the SDK's default, WHEN_SUPPORTED); none with WHEN_REQUIRED. */
    private final boolean partChecksums;
    private final Optional<URI> endpointOverride;
    private final S3Errors errors;
    private final ObjectCache cache;
    private final ExecutorService transfers;

    private S3Store(S3Client s3, S3Settings settings, boolean partChecksums, Optional<URI> endpointOverride, S3Errors errors) {
        this.s3 = s3;
        this.settings = settings;
        this.partChecksums = partChecksums;
        this.endpointOverride = endpointOverride;
        this.errors = errors;
        this.cache = new ObjectCache(settings.cacheDir());
        AtomicInteger threads = new AtomicInteger();
        this.transfers = Executors.newFixedThreadPool(settings.concurrency(), task -> {
            Thread thread = new Thread(task, "s3-transfer-" + threads.incrementAndGet());
            thread.setDaemon(true);
            return thread;
        });
        cache.removeDeadStaging();
    }

    /** A store configured by {@code settings} and the standard AWS configuration (environment, system properties, ~/.aws). */
    public static S3Store create(S3Settings settings) {
        return create(settings, builder -> { });
    }

    /**
     * As {@link #create(S3Settings)}, with {@code customize} applied to the client builder last
     * (tests: credentials, request interceptors).
     */
    static S3Store create(S3Settings settings, Consumer<S3ClientBuilder> customize) {
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
        return new S3Store(client, settings, checksums == RequestChecksumCalculation.WHEN_SUPPORTED, override,
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

    @Override
    public Path fetchSet(Location location, String commitObject) throws IOException {
        for (int attempt = 1; ; attempt++) {
            SortedMap<String, String> etags = committedSet(location, commitObject);
            List<String> names = List.copyOf(etags.keySet());
            List<Callable<Path>> downloads = names.stream()
                    .<Callable<Path>>map(name -> () -> download(location.resolve(name), etags.get(name)))
                    .toList();
            try {
                List<Path> paths = runAll(downloads);
                Map<String, Path> files = new LinkedHashMap<>();
                for (int i = 0; i < names.size(); i++) {
                    files.put(names.get(i), paths.get(i));
                }
                return cache.set(location.bucket(), location.key(), etags, files);
            } catch (ObjectChanged changed) {
                if (attempt == 2) {
                    throw new StorageException("the set at '" + location + "' changed twice while it was being downloaded"
                            + " (another process is publishing or deleting it); try again when it has finished");
                }
                LOG.infof("the set at %s changed while it was being downloaded; reading it again", location);
            }
        }
    }

    /** A hash of the set's object names and ETags, from one listing (the name of the set's cache directory too). */
    @Override
    public String version(Location location, String commitObject) throws IOException {
        return ObjectCache.version(committedSet(location, commitObject));
    }

    /** The set's file names and ETags from one listing; a set without its commit object is not there. */
    private SortedMap<String, String> committedSet(Location location, String commitObject) throws IOException {
        Listing listing = list(location, Action.LIST);
        if (!listing.files().containsKey(location.keyPrefix() + commitObject)) {
            throw new ArtifactNotFoundException("'" + location + "' has no " + commitObject
                    + ": nothing was published there, or a publish is under way");
        }
        SortedMap<String, String> etags = new TreeMap<>();
        listing.files().values().forEach(object -> etags.put(nameIn(location, object.key()), object.eTag()));
        return etags;
    }

    @Override
    public void release(Path fetchedSet) throws IOException {
        cache.removeSet(fetchedSet);
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

    /** Downloads one object version into the cache (once per ETag), refusing any other version. */
    private Path download(Location object, String etag) throws IOException {
        Path target = cache.object(object.bucket(), object.key(), etag, object.name());
        if (Files.isRegularFile(target)) {
            return target;
        }
        Path part = cache.partFile(target);
        try {
            s3.getObject(b -> b.bucket(object.bucket()).key(object.key()).ifMatch(etag), ResponseTransformer.toFile(part));
            cache.install(part, target);
            return target;
        } catch (S3Exception e) {
            if (e.statusCode() == 412 || e.statusCode() == 404) {
                throw new ObjectChanged(object);
            }
            throw errors.translate(Action.READ, object, e);
        } catch (SdkException e) {
            throw errors.translate(Action.READ, object, e);
        } finally {
            Files.deleteIfExists(part);
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
    public Staging stage(Location location, String commitObject) throws IOException {
        try { // fail now, not after the work: a missing bucket, wrong credentials, an unreachable endpoint
            s3.listObjectsV2(b -> b.bucket(location.bucket()).prefix(location.keyPrefix()).maxKeys(1));
        } catch (SdkException e) {
            throw errors.translate(Action.LIST, location, e);
        }
        return new S3Staging(location, commitObject, cache.newStagingDir());
    }

    @Override
    public void deleteSet(Location location, String commitObject) throws IOException {
        Listing listing = list(location, Action.LIST);
        String commitKey = location.keyPrefix() + commitObject;
        if (listing.files().containsKey(commitKey)) {
            deleteKeys(location, List.of(commitKey));
        }
        List<String> rest = new ArrayList<>(listing.hidden());
        listing.files().keySet().stream().filter(key -> !key.equals(commitKey)).forEach(rest::add);
        deleteKeys(location, rest);
    }

    private final class S3Staging implements Staging {
        private final Location location;
        private final String commitObject;
        private final Path dir;
        private boolean committed;

        S3Staging(Location location, String commitObject, Path dir) {
            this.location = location;
            this.commitObject = commitObject;
            this.dir = dir;
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
            Listing before = list(location, Action.LIST);
            String commitKey = location.keyPrefix() + commitObject;
            String markerKey = location.keyPrefix() + "." + commitObject + REPLACING;
            // A committed set is being replaced: say so in a marker that outlives this process, so that a
            // publish retried after this one died still removes the old set's files.
            boolean replacing = before.files().containsKey(commitKey) || before.hidden().contains(markerKey);
            if (before.files().containsKey(commitKey)) {
                putMarker(location.resolve("." + commitObject + REPLACING));
                deleteKeys(location, List.of(commitKey)); // from here on readers see no set, never a mix
            }
            upload(names.stream().filter(name -> !name.equals(commitObject)).toList());
            upload(List.of(commitObject));
            committed = true;
            if (replacing) {
                Set<String> current = new TreeSet<>(names);
                List<String> stale = new ArrayList<>(before.files().keySet().stream()
                        .filter(key -> !current.contains(nameIn(location, key))).toList());
                stale.add(markerKey);
                deleteKeys(location, stale);
            }
            LOG.debugf("published %s (%d files)", location, names.size());
            OwnedFiles.deleteTree(dir);
        }

        @Override
        public void close() throws IOException {
            OwnedFiles.deleteTree(dir);
        }

        /** Uploads the staged files: small ones whole, large ones in parts; all of it several requests at a time. */
        private void upload(List<String> names) throws IOException {
            List<Callable<Void>> requests = new ArrayList<>();
            List<MultipartUpload> multiparts = new ArrayList<>();
            try {
                for (String name : names) {
                    Path file = dir.resolve(name);
                    Location target = location.resolve(name);
                    long size = Files.size(file);
                    if (size < settings.multipartThreshold()) {
                        requests.add(() -> {
                            putObject(target, file);
                            return null;
                        });
                    } else {
                        MultipartUpload upload = new MultipartUpload(target, file, size);
                        multiparts.add(upload);
                        requests.addAll(upload.parts());
                    }
                }
                runAll(requests);
                for (MultipartUpload upload : multiparts) {
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

    private void putObject(Location target, Path file) {
        try {
            s3.putObject(b -> b.bucket(target.bucket()).key(target.key()), RequestBody.fromFile(file));
        } catch (SdkException e) {
            throw errors.translate(Action.WRITE, target, e);
        }
    }

    /** One file uploaded in parts; nothing is visible under its key until {@link #complete()}. */
    private final class MultipartUpload {
        private final Location target;
        private final Path file;
        private final long size;
        private final long partSize;
        private final String uploadId;
        private final CompletedPart[] completed;
        private boolean done;

        MultipartUpload(Location target, Path file, long size) {
            this.target = target;
            this.file = file;
            this.size = size;
            this.partSize = Math.max(settings.partSize(), (size + MAX_PARTS - 1) / MAX_PARTS);
            this.completed = new CompletedPart[(int) Math.max(1, (size + partSize - 1) / partSize)];
            CreateMultipartUploadRequest.Builder create = CreateMultipartUploadRequest.builder()
                    .bucket(target.bucket()).key(target.key());
            if (partChecksums) {
                create.checksumAlgorithm(ChecksumAlgorithm.CRC32);
            }
            try {
                this.uploadId = s3.createMultipartUpload(create.build()).uploadId();
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

        private void uploadPart(int index) {
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
                        .multipartUpload(m -> m.parts(completed)));
                done = true;
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

    /** {@code length} bytes of {@code file} from {@code offset}, streamed: a part is never held in memory. */
    private static InputStream slice(Path file, long offset, long length) {
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

    /** Runs the requests several at a time; the first failure cancels the rest and is thrown as it was. */
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
        List<Future<T>> futures = new ArrayList<>();
        for (Callable<T> request : requests) {
            futures.add(transfers.submit(request));
        }
        List<T> results = new ArrayList<>();
        try {
            for (Future<T> future : futures) {
                results.add(future.get());
            }
            return results;
        } catch (ExecutionException e) {
            futures.forEach(f -> f.cancel(true));
            if (e.getCause() instanceof IOException io) {
                throw io;
            }
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException(e.getCause());
        } catch (InterruptedException e) {
            futures.forEach(f -> f.cancel(true));
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while transferring to or from S3");
        }
    }
}
