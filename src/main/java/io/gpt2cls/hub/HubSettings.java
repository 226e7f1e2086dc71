package io.gpt2cls.hub;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;

/**
 * How to reach the Hub, with {@code huggingface_hub}'s conventions: the endpoint ({@code HF_ENDPOINT},
 * e.g. a mirror), a token for gated and private repositories ({@code HF_TOKEN}), and offline mode
 * ({@code HF_HUB_OFFLINE=1}: never call out, use what the store has). The application reads these at its
 * edge (AppConfig) and hands them down.
 *
 * @param stallTimeout how long a download may go without receiving a byte before it is given up
 */
public record HubSettings(URI endpoint, Optional<String> token, boolean offline, Duration stallTimeout) {

    public static final URI DEFAULT_ENDPOINT = URI.create("https://huggingface.co");

    public HubSettings {
        String text = endpoint.toString();
        if (text.endsWith("/")) {
            endpoint = URI.create(text.substring(0, text.length() - 1));
        }
        token = token.filter(t -> !t.isBlank());
    }

    public static HubSettings online(URI endpoint, Optional<String> token) {
        return new HubSettings(endpoint, token, false, Duration.ofSeconds(60));
    }

    public HubSettings withOffline(boolean offline) {
        return new HubSettings(endpoint, token, offline, stallTimeout);
    }

    public HubSettings withStallTimeout(Duration stallTimeout) {
        return new HubSettings(endpoint, token, offline, stallTimeout);
    }
}
