package io.gpt2cls.runtime;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;

import org.jboss.logging.Logger;

import software.amazon.awssdk.core.SdkSystemSetting;

/**
 * Watches for an EC2 spot interruption notice, which comes two minutes before the instance is
 * reclaimed: IMDSv2's {@code spot/instance-action} answers 404 until then. AWS Batch gives a job
 * no other warning (ECS's spot draining stops service tasks, not a standalone task), so without
 * this the job dies with the host and loses the updates since its last checkpoint.
 *
 * <p>A daemon thread asks every {@code pollInterval} (AWS suggests 5 s) with a session token
 * (PUT {@code /latest/api/token}, then GET with the token), and on a notice calls {@code onNotice}
 * once and ends (the job then stops as on SIGTERM, see {@link GracefulStop#request}). Off EC2 it
 * costs one connection attempt: the first failure to reach the endpoint (refused, no connection
 * within {@value #CONNECT_TIMEOUT_MILLIS} ms, or no answer within {@value #ANSWER_TIMEOUT_MILLIS} ms)
 * ends the watch with one log line. Once reached, a later failure is logged and the polling goes on.
 */
public final class SpotInterruptionWatcher implements AutoCloseable {

    private static final Logger LOG = Logger.getLogger(SpotInterruptionWatcher.class);
    /** Where IMDS is unless the SDK's settings say otherwise (the SDK's Ec2MetadataEndpointProvider's defaults). */
    static final URI DEFAULT_ENDPOINT = URI.create(SdkSystemSetting.AWS_EC2_METADATA_SERVICE_ENDPOINT.defaultValue());
    static final URI DEFAULT_IPV6_ENDPOINT = URI.create("http://[fd00:ec2::254]");
    static final String TOKEN_PATH = "/latest/api/token";
    static final String NOTICE_PATH = "/latest/meta-data/spot/instance-action";
    static final String TOKEN_HEADER = "X-aws-ec2-metadata-token";
    static final String TOKEN_TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds";
    private static final int TOKEN_TTL_SECONDS = 6 * 3600;
    /** IMDS is a link-local address: a connection takes microseconds where it exists, and nothing else may take long. */
    private static final int CONNECT_TIMEOUT_MILLIS = 1000;
    /**
     * IMDS answers in milliseconds, but the first request shares a starting JVM (class loading, libtorch) with the
     * job; a PUT answer dropped on its way (HttpPutResponseHopLimit 1 and a bridged container) ends here.
     */
    private static final int ANSWER_TIMEOUT_MILLIS = 5000;

    private final URI endpoint;
    private final Duration pollInterval;
    private final Consumer<String> onNotice;
    private final HttpClient http;
    private final Thread thread;
    private String token;
    private long tokenRenewAt;

    private SpotInterruptionWatcher(URI endpoint, Duration pollInterval, Consumer<String> onNotice) {
        this.endpoint = endpoint;
        this.pollInterval = pollInterval;
        this.onNotice = onNotice;
        this.http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
                .connectTimeout(Duration.ofMillis(CONNECT_TIMEOUT_MILLIS)).proxy(HttpClient.Builder.NO_PROXY).build();
        this.thread = new Thread(this::watch, "gpt2cls-spot-notice");
        thread.setDaemon(true);
    }

    /** Starts watching the instance metadata service at {@code endpoint}; {@code onNotice} gets the notice's text. */
    public static SpotInterruptionWatcher start(URI endpoint, Duration pollInterval, Consumer<String> onNotice) {
        SpotInterruptionWatcher watcher = new SpotInterruptionWatcher(endpoint, pollInterval, onNotice);
        watcher.thread.start();
        return watcher;
    }

    /**
     * The instance metadata endpoint as the AWS SDK resolves it: {@code configured} if given, else
     * {@code AWS_EC2_METADATA_SERVICE_ENDPOINT} (or {@code aws.ec2MetadataServiceEndpoint}), else the
     * IPv4 or IPv6 address by {@code AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE}; empty when
     * {@code AWS_EC2_METADATA_DISABLED} (or {@code aws.disableEc2Metadata}) is true.
     */
    public static Optional<URI> endpoint(Optional<URI> configured) {
        if (SdkSystemSetting.AWS_EC2_METADATA_DISABLED.getBooleanValue().orElse(false)) {
            return Optional.empty();
        }
        if (configured.isPresent()) {
            return configured;
        }
        Optional<String> fromSdk = SdkSystemSetting.AWS_EC2_METADATA_SERVICE_ENDPOINT.getNonDefaultStringValue();
        if (fromSdk.isPresent()) {
            return fromSdk.map(URI::create);
        }
        boolean ipv6 = SdkSystemSetting.AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE.getStringValue()
                .map(mode -> mode.toLowerCase(Locale.ROOT).equals("ipv6")).orElse(false);
        return Optional.of(ipv6 ? DEFAULT_IPV6_ENDPOINT : DEFAULT_ENDPOINT);
    }

    private void watch() {
        boolean reached = false;
        boolean failureLogged = false;
        while (!Thread.currentThread().isInterrupted()) {
            try {
                Optional<String> notice = poll();
                if (!reached) {
                    LOG.infof("watching for spot interruption notices at %s every %.1f s", endpoint, pollInterval.toMillis() / 1000.0);
                    reached = true;
                }
                if (notice.isPresent()) {
                    LOG.warnf("spot interruption notice: %s; stopping after the update under way to publish a checkpoint",
                            notice.get());
                    onNotice.accept("spot interruption notice " + notice.get());
                    return;
                }
            } catch (IOException e) {
                if (Thread.currentThread().isInterrupted()) {
                    return; // closed
                }
                if (!reached) {
                    LOG.infof("not watching for spot interruption notices: the instance metadata service at %s did not answer"
                            + " (%s); not on EC2, or IMDS out of this container's reach (HttpPutResponseHopLimit)", endpoint, e);
                    return;
                }
                if (!failureLogged) {
                    LOG.warnf("spot interruption notices: %s did not answer (%s); still trying", endpoint, e);
                    failureLogged = true;
                }
            }
            try {
                Thread.sleep(pollInterval.toMillis());
            } catch (InterruptedException e) {
                return;
            }
        }
    }

    /** One look: the notice's text when there is one. */
    private Optional<String> poll() throws IOException {
        if (token == null || System.nanoTime() > tokenRenewAt) {
            HttpResponse<String> answer = send(HttpRequest.newBuilder(endpoint.resolve(TOKEN_PATH))
                    .PUT(HttpRequest.BodyPublishers.noBody()).header(TOKEN_TTL_HEADER, String.valueOf(TOKEN_TTL_SECONDS)));
            if (answer.statusCode() != 200) {
                throw new IOException("the token request was answered with HTTP " + answer.statusCode());
            }
            token = answer.body().trim();
            tokenRenewAt = System.nanoTime() + Duration.ofSeconds(TOKEN_TTL_SECONDS / 2).toNanos();
        }
        HttpResponse<String> answer = send(HttpRequest.newBuilder(endpoint.resolve(NOTICE_PATH)).GET().header(TOKEN_HEADER, token));
        return switch (answer.statusCode()) {
            case 200 -> Optional.of(answer.body().trim());
            case 401 -> { // the token expired (an instance stopped and started): a new one next time
                token = null;
                yield Optional.empty();
            }
            case 404 -> Optional.empty();
            default -> throw new IOException("spot/instance-action was answered with HTTP " + answer.statusCode());
        };
    }

    private HttpResponse<String> send(HttpRequest.Builder request) throws IOException {
        try {
            return http.send(request.timeout(Duration.ofMillis(ANSWER_TIMEOUT_MILLIS)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }

    /** Whether it still polls: false once a notice came, the endpoint was out of reach, or it was closed. */
    boolean isWatching() {
        return thread.isAlive();
    }

    /** Stops watching (the job is over). */
    @Override
    public void close() {
        thread.interrupt();
    }
}
