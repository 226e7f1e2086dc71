package io.gpt2cls.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * The spot notice watch against a fake IMDSv2 on loopback: silent while there is no notice, one
 * call on a notice, one attempt off EC2, and the endpoint chosen by the AWS SDK's settings. (The
 * whole job stopping on a notice and resuming: ResumeAfterKillTest.)
 */
class SpotInterruptionWatcherTest {

    static final Duration POLL = Duration.ofMillis(50);

    @Test
    void aNoticeIsPassedOnOnceWithATokenAndTheWatchEnds() throws Exception {
        BlockingQueue<String> notices = new ArrayBlockingQueue<>(4);
        try (FakeInstanceMetadata imds = new FakeInstanceMetadata();
             SpotInterruptionWatcher watcher = SpotInterruptionWatcher.start(imds.endpoint(), POLL, notices::add)) {
            awaitRequests(imds, 3); // a token and two looks without a notice
            assertTrue(notices.isEmpty(), "404 is no notice");
            imds.announce();
            String notice = notices.poll(30, TimeUnit.SECONDS);
            assertTrue(notice != null && notice.contains(FakeInstanceMetadata.NOTICE), String.valueOf(notice));
            awaitEnd(watcher);
            List<String> requests = imds.requests();
            assertEquals("PUT " + SpotInterruptionWatcher.TOKEN_PATH + " ttl=21600", requests.get(0));
            assertTrue(requests.subList(1, requests.size()).stream().allMatch(r -> r.equals(
                    "GET " + SpotInterruptionWatcher.NOTICE_PATH + " token=" + FakeInstanceMetadata.TOKEN)), requests.toString());
            assertEquals(1, requests.stream().filter(r -> r.startsWith("PUT")).count(), "the token is reused");
            assertTrue(notices.isEmpty(), "one call");
        }
    }

    @Test
    void offEc2TheFirstFailureToReachTheEndpointEndsTheWatch() throws Exception {
        URI closedPort;
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            closedPort = URI.create("http://127.0.0.1:" + socket.getLocalPort());
        }
        SpotInterruptionWatcher watcher = SpotInterruptionWatcher.start(closedPort, POLL, notice -> {
            throw new AssertionError("no notice off EC2");
        });
        awaitEnd(watcher);
    }

    @Test
    void theEndpointFollowsTheAwsSdkSettings() {
        URI configured = URI.create("http://127.0.0.1:1338");
        assertEquals(Optional.of(SpotInterruptionWatcher.DEFAULT_ENDPOINT), SpotInterruptionWatcher.endpoint(Optional.empty()));
        assertEquals(Optional.of(configured), SpotInterruptionWatcher.endpoint(Optional.of(configured)));
        try {
            System.setProperty("aws.ec2MetadataServiceEndpoint", "http://127.0.0.1:1339");
            assertEquals(Optional.of(URI.create("http://127.0.0.1:1339")), SpotInterruptionWatcher.endpoint(Optional.empty()));
            System.clearProperty("aws.ec2MetadataServiceEndpoint");
            System.setProperty("aws.ec2MetadataServiceEndpointMode", "IPv6");
            assertEquals(Optional.of(SpotInterruptionWatcher.DEFAULT_IPV6_ENDPOINT), SpotInterruptionWatcher.endpoint(Optional.empty()));
            System.setProperty("aws.disableEc2Metadata", "true");
            assertEquals(Optional.empty(), SpotInterruptionWatcher.endpoint(Optional.of(configured)), "AWS_EC2_METADATA_DISABLED");
        } finally {
            System.clearProperty("aws.ec2MetadataServiceEndpoint");
            System.clearProperty("aws.ec2MetadataServiceEndpointMode");
            System.clearProperty("aws.disableEc2Metadata");
        }
    }

    static void awaitRequests(FakeInstanceMetadata imds, int count) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (imds.requests().size() < count) {
            assertTrue(System.nanoTime() < deadline, "requests so far: " + imds.requests());
            Thread.sleep(10);
        }
    }

    static void awaitEnd(SpotInterruptionWatcher watcher) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (watcher.isWatching()) {
            assertTrue(System.nanoTime() < deadline, "the watch goes on");
            Thread.sleep(10);
        }
        assertFalse(watcher.isWatching());
    }
}
