package io.gpt2cls.storage;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;

/**
 * A real S3-compatible server for tests: S3Proxy (the jar Maven copies to {@code target/s3proxy/}),
 * run as a child JVM on a free loopback port, storing buckets as directories under {@link #dataDir()}.
 * It can be killed mid-request and started again on the same port and data.
 *
 * <p>S3Proxy 4.0 implements the conditional writes the store's protocol relies on
 * ({@code If-None-Match: *} and {@code If-Match} on PutObject and CompleteMultipartUpload; it answers
 * 501 to a conditional DeleteObject) and accepts the SDK's default uploads with checksum trailers
 * (aws-chunked, CRC32), so clients keep the SDK's defaults.
 */
public final class S3ProxyServer implements AutoCloseable {

    public static final String IDENTITY = "local-identity";
    public static final String CREDENTIAL = "local-credential";
    private static final Duration STARTUP = Duration.ofSeconds(90);

    private final Path dataDir;
    private final Path workDir;
    private final int port;
    private Process process;

    private S3ProxyServer(Path workDir, int port) {
        this.workDir = workDir;
        this.dataDir = workDir.resolve("data");
        this.port = port;
    }

    /** Starts a server keeping its buckets under {@code workDir}/data, on a free port. */
    public static S3ProxyServer start(Path workDir) throws IOException {
        S3ProxyServer server = new S3ProxyServer(workDir, freePort());
        Files.createDirectories(server.dataDir);
        server.launch();
        return server;
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public Path dataDir() {
        return dataDir;
    }

    public static AwsCredentialsProvider credentials() {
        return StaticCredentialsProvider.create(AwsBasicCredentials.create(IDENTITY, CREDENTIAL));
    }

    /** A plain client for the test's own set-up (buckets, raw objects), bypassing the store. */
    public S3Client client() {
        return S3Client.builder().endpointOverride(endpoint()).forcePathStyle(true).region(Region.US_EAST_1)
                .credentialsProvider(credentials())
                .build();
    }

    public void createBucket(String bucket) {
        try (S3Client client = client()) {
            client.createBucket(b -> b.bucket(bucket));
        }
    }

    /** Creates the bucket unless the server has it already (a shared server: another test class made it). */
    public void ensureBucket(String bucket) {
        try {
            createBucket(bucket);
        } catch (BucketAlreadyOwnedByYouException madeByAnotherClass) {
            // there it is
        }
    }

    /** Kills the server at once (SIGKILL), as a crash or a lost network would: requests in flight break. */
    public void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** Starts the server again after {@link #kill()}, on the same port and data. */
    public void restart() throws IOException {
        if (process.isAlive()) {
            throw new IllegalStateException("S3Proxy is still running");
        }
        launch();
    }

    @Override
    public void close() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }

    private void launch() throws IOException {
        Path jar = Path.of(System.getProperty("s3proxy.jar", "target/s3proxy/s3proxy.jar"));
        if (!Files.isRegularFile(jar)) {
            throw new IllegalStateException("S3Proxy jar not found at " + jar.toAbsolutePath() + "; run the tests through"
                    + " Maven (./mvnw test), whose maven-dependency-plugin copies it there, or set -Ds3proxy.jar=PATH");
        }
        Path config = workDir.resolve("s3proxy.conf");
        Files.writeString(config, String.join("\n",
                "s3proxy.endpoint=" + endpoint(),
                "s3proxy.authorization=aws-v2-or-v4",
                "s3proxy.identity=" + IDENTITY,
                "s3proxy.credential=" + CREDENTIAL,
                "s3proxy.ignore-unknown-headers=true",
                "jclouds.provider=filesystem-nio2",
                "jclouds.identity=" + IDENTITY,
                "jclouds.credential=" + CREDENTIAL,
                "jclouds.filesystem.basedir=" + dataDir.toAbsolutePath(),
                ""));
        Path log = workDir.resolve("s3proxy.log");
        List<String> command = new ArrayList<>(List.of(
                Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC", "-Xmx256m", // a quick start on two cores
                "-jar", jar.toAbsolutePath().toString(), "--properties", config.toString()));
        process = new ProcessBuilder(command).redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
        awaitReady(log);
    }

    /** Waits until the server answers HTTP (any status: an unsigned request gets 403). */
    private void awaitReady(Path log) throws IOException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        HttpRequest probe = HttpRequest.newBuilder(endpoint()).timeout(Duration.ofSeconds(2)).GET().build();
        long deadline = System.nanoTime() + STARTUP.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IllegalStateException("S3Proxy exited with status " + process.exitValue() + " while starting on "
                        + endpoint() + "; its log (" + log + ") ends with:\n" + tail(log));
            }
            try {
                http.send(probe, HttpResponse.BodyHandlers.discarding());
                return;
            } catch (IOException notYet) {
                sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for S3Proxy", e);
            }
        }
        process.destroyForcibly();
        throw new IllegalStateException("S3Proxy did not answer on " + endpoint() + " within " + STARTUP.toSeconds()
                + " s; its log (" + log + ") ends with:\n" + tail(log));
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 30), lines.size()));
        } catch (IOException e) {
            return "(unreadable: " + e.getMessage() + ")";
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        }
    }
}
