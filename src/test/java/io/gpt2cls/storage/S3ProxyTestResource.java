package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;

import io.gpt2cls.runtime.Directories;

/**
 * S3Proxy for {@code @QuarkusTest}s: {@code @QuarkusTestResource(S3ProxyTestResource.class)} (or
 * {@code @WithTestResource}). Starts a server with the bucket {@value #BUCKET} (or the
 * comma-separated init argument {@code buckets}) and points the application at it through the
 * standard AWS settings, as a user would: the system properties {@code aws.endpointUrlS3},
 * {@code aws.accessKeyId}, {@code aws.secretAccessKey}, {@code aws.region} and
 * {@code aws.requestChecksumCalculation} (the SDK reads them like their {@code AWS_*} environment
 * variables). Stopping restores what those properties were.
 */
public class S3ProxyTestResource implements QuarkusTestResourceLifecycleManager {

    public static final String BUCKET = "gpt2cls-test";

    private List<String> buckets = List.of(BUCKET);
    private final Map<String, String> previous = new HashMap<>();
    private Path workDir;
    private S3ProxyServer server;

    @Override
    public void init(Map<String, String> initArgs) {
        String names = initArgs.get("buckets");
        if (names != null && !names.isBlank()) {
            buckets = Arrays.stream(names.split(",")).map(String::strip).toList();
        }
    }

    @Override
    public Map<String, String> start() {
        try {
            workDir = Files.createTempDirectory("s3proxy-");
            server = S3ProxyServer.start(workDir);
        } catch (IOException e) {
            throw new IllegalStateException("could not start S3Proxy: " + e.getMessage(), e);
        }
        buckets.forEach(server::createBucket);
        set("aws.endpointUrlS3", server.endpoint().toString());
        set("aws.accessKeyId", S3ProxyServer.IDENTITY);
        set("aws.secretAccessKey", S3ProxyServer.CREDENTIAL);
        set("aws.region", "us-east-1");
        return Map.of();
    }

    /** The running server (for tests that write raw objects or inspect the bucket). */
    public S3ProxyServer server() {
        return server;
    }

    @Override
    public void stop() {
        try {
            if (server != null) {
                server.close();
            }
            if (workDir != null) {
                Directories.deleteTree(workDir);
            }
        } catch (Exception e) {
            throw new IllegalStateException("could not stop S3Proxy: " + e.getMessage(), e);
        } finally {
            previous.forEach((name, value) -> {
                if (value == null) {
                    System.clearProperty(name);
                } else {
                    System.setProperty(name, value);
                }
            });
            previous.clear();
        }
    }

    private void set(String name, String value) {
        previous.putIfAbsent(name, System.getProperty(name));
        System.setProperty(name, value);
    }
}
