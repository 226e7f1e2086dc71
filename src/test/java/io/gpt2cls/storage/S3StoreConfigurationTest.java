package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProviderChain;
import software.amazon.awssdk.auth.credentials.ProfileCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.services.s3.S3ClientBuilder;

/**
 * The store configured the standard AWS way (what {@link S3ProxyTestResource} sets for the function
 * tests), and what a user reads when the configuration is wrong.
 */
class S3StoreConfigurationTest {

    static final Location MODEL = Location.parse("s3://" + S3ProxyTestResource.BUCKET + "/models/m1");
    static final String COMMIT = ArtifactStoreContract.COMMIT;
    static final S3ProxyTestResource RESOURCE = new S3ProxyTestResource();

    @TempDir
    Path cacheDir;

    @BeforeAll
    static void start() {
        RESOURCE.init(Map.of());
        RESOURCE.start();
    }

    @AfterAll
    static void stop() {
        String endpoint = System.getProperty("aws.endpointUrlS3");
        RESOURCE.stop();
        assertNull(System.getProperty("aws.endpointUrlS3"), "stopping restores the properties (was " + endpoint + ")");
    }

    URI endpoint() {
        return RESOURCE.server().endpoint();
    }

    S3Settings settings() {
        return S3Settings.defaults().withCacheDir(cacheDir).withMaxAttempts(1);
    }

    static void publish(ArtifactStore store, Location location, String config) throws IOException {
        try (ArtifactStore.Staging staging = store.stage(location, COMMIT)) {
            Files.writeString(staging.dir().resolve(COMMIT), config);
            staging.commit();
        }
    }

    @Test
    void theEndpointComesFromTheStandardSettingAndImpliesPathStyleRequests() throws IOException {
        // aws.endpointUrlS3 is AWS_ENDPOINT_URL_S3's system property; credentials and region come the standard way too
        URI byName = URI.create("http://localhost:" + endpoint().getPort()); // with an IP address the SDK picks path-style itself
        String saved = System.getProperty("aws.endpointUrlS3");
        System.setProperty("aws.endpointUrlS3", byName.toString());
        List<String> urls = new CopyOnWriteArrayList<>();
        try (S3Store store = S3Store.create(settings(), recordUrls(urls))) {
            assertEquals(Optional.of(byName), store.endpointOverride());
            publish(store, MODEL, "{\"v\": 1}");
            assertEquals("{\"v\": 1}", Files.readString(store.fetchSet(MODEL, COMMIT).resolve(COMMIT)));
        } finally {
            System.setProperty("aws.endpointUrlS3", saved);
        }
        assertTrue(urls.stream().allMatch(url -> url.startsWith(byName + "/" + S3ProxyTestResource.BUCKET)), urls.toString());
    }

    @Test
    void pathStyleCanBeTurnedOffExplicitly() {
        URI byName = URI.create("http://localhost:" + endpoint().getPort());
        List<String> urls = new CopyOnWriteArrayList<>();
        try (S3Store store = S3Store.create(settings().withEndpoint(Optional.of(byName)).withPathStyle(Optional.of(false)),
                recordUrls(urls))) {
            assertThrows(StorageException.class, () -> store.exists(MODEL, COMMIT)); // the server has no virtual hosts
        }
        assertTrue(urls.get(0).startsWith("http://" + S3ProxyTestResource.BUCKET + ".localhost:"), urls.toString());
    }

    /** Records the URL of every request the store sends. */
    static Consumer<S3ClientBuilder> recordUrls(List<String> urls) {
        return builder -> builder.overrideConfiguration(builder.overrideConfiguration().toBuilder()
                .addExecutionInterceptor(new ExecutionInterceptor() {
                    @Override
                    public void beforeTransmission(Context.BeforeTransmission context, ExecutionAttributes attributes) {
                        urls.add(context.httpRequest().getUri().toString());
                    }
                }).build());
    }

    @Test
    void anUnreachableEndpointIsNamedWithTheSettingToCheck() throws IOException {
        URI closed = URI.create("http://127.0.0.1:" + closedPort());
        try (S3Store store = S3Store.create(settings().withEndpoint(Optional.of(closed)))) {
            StorageException e = assertThrows(StorageUnavailableException.class, () -> store.fetchSet(MODEL, COMMIT));
            assertEquals("cannot reach the S3 endpoint " + closed + " for " + MODEL + ": connection refused; check the setting"
                    + " gpt2cls.store.s3.endpoint and the network (proxy, VPC endpoint or NAT)", e.getMessage());
        }
        String saved = System.getProperty("aws.endpointUrlS3");
        System.setProperty("aws.endpointUrlS3", closed.toString());
        try (S3Store store = S3Store.create(settings())) {
            StorageException e = assertThrows(StorageException.class, () -> store.stage(MODEL, COMMIT));
            assertTrue(e.getMessage().contains(": connection refused; check AWS_ENDPOINT_URL_S3"), e.getMessage());
        } finally {
            System.setProperty("aws.endpointUrlS3", saved);
        }
    }

    @Test
    void aMissingBucketIsNamed() {
        Location nowhere = Location.parse("s3://no-such-bucket/models/m1");
        try (S3Store store = S3Store.create(settings())) {
            StorageException listing = assertThrows(StorageException.class, () -> store.exists(nowhere, COMMIT));
            assertTrue(listing.getMessage().startsWith("bucket 'no-such-bucket' does not exist on the S3 endpoint "
                    + endpoint() + " (" + nowhere + ")"), listing.getMessage());
            StorageException file = assertThrows(StorageException.class, () -> store.fetchFile(nowhere.resolve("train.jsonl")));
            assertTrue(file.getMessage().startsWith("bucket 'no-such-bucket' does not exist"), file.getMessage());
        }
    }

    @Test
    void aMissingFileIsNotFound() {
        try (S3Store store = S3Store.create(settings())) {
            ArtifactNotFoundException e = assertThrows(ArtifactNotFoundException.class,
                    () -> store.fetchFile(MODEL.resolve("absent.json")));
            assertEquals("nothing at '" + MODEL.resolve("absent.json") + "'", e.getMessage());
        }
    }

    @Test
    void aWrongSecretKeyIsReportedAsSuch() {
        var wrong = StaticCredentialsProvider.create(AwsBasicCredentials.create(S3ProxyServer.IDENTITY, "not-the-secret"));
        try (S3Store store = S3Store.create(settings(), b -> b.credentialsProvider(wrong))) {
            StorageException e = assertThrows(StorageException.class, () -> store.stage(MODEL, COMMIT));
            assertEquals("the secret key does not match the access key (while trying to list " + MODEL
                    + "); check AWS_SECRET_ACCESS_KEY or AWS_PROFILE", e.getMessage());
            assertFalse(e instanceof StorageUnavailableException, "refused, not temporary: a retry would be refused again");
        }
        var unknown = StaticCredentialsProvider.create(AwsBasicCredentials.create("someone-else", "secret"));
        try (S3Store store = S3Store.create(settings(), b -> b.credentialsProvider(unknown))) {
            StorageException e = assertThrows(StorageException.class, () -> store.exists(MODEL, COMMIT));
            assertTrue(e.getMessage().startsWith("the access key is not known to the S3 endpoint")
                    || e.getMessage().startsWith("access denied: cannot list " + MODEL), e.getMessage());
        }
    }

    @Test
    void missingCredentialsAreReportedWithWhereToSetThem() {
        var none = AwsCredentialsProviderChain.of(ProfileCredentialsProvider.create("no-such-profile-" + System.nanoTime()));
        try (S3Store store = S3Store.create(settings(), b -> b.credentialsProvider(none))) {
            StorageException e = assertThrows(StorageException.class, () -> store.fetchSet(MODEL, COMMIT));
            assertEquals("no AWS credentials found to list " + MODEL + "; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY,"
                    + " or AWS_PROFILE, or run with an IAM role", e.getMessage());
        }
    }

    @Test
    void settingsOutsideWhatS3AcceptsAreRefused() {
        StorageException e = assertThrows(StorageException.class,
                () -> S3Settings.defaults().withMultipart(S3Settings.MIN_PART_SIZE, 1024 * 1024));
        assertTrue(e.getMessage().contains("gpt2cls.store.s3.part-size"), e.getMessage());
    }

    private static int closedPort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            return socket.getLocalPort();
        }
    }
}
