package io.gpt2cls.hub;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpHeaders;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestOutputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * The Hugging Face Hub's HTTP endpoints, as {@code huggingface_hub} uses them:
 * <ul>
 *   <li>{@code GET /api/models/{id}/revision/{revision}?blobs=true}: the commit a branch or tag points to, the
 *       repository's canonical id, and its files with sizes and, for LFS files, their SHA-256;</li>
 *   <li>{@code GET /{id}/resolve/{commit}/{file}}: a file's bytes, for large files by a redirect to a CDN.</li>
 * </ul>
 * Redirects are followed here, not by the HTTP library: one on the Hub's own host (a renamed repository:
 * {@code gpt2} answers with a redirect to {@code openai-community/gpt2}) keeps the token, one to another
 * host (the CDN) goes without it, as {@code requests} does for {@code huggingface_hub}. Errors are read from
 * the Hub's {@code X-Error-Code} header ({@code RepoNotFound}, {@code RevisionNotFound}, {@code EntryNotFound},
 * {@code GatedRepo}) and the status, and turned into messages a user can act on.
 */
public final class HubClient {

    /** One file of a repository revision; {@code sha256} is known for LFS files (the weights), null otherwise. */
    public record RepoFile(String name, long size, String sha256) {}

    /** A revision pinned: the repository's canonical id, the commit, and its files. */
    public record Revision(String id, String commit, List<RepoFile> files) {

        public Optional<RepoFile> file(String name) {
            return files.stream().filter(f -> f.name().equals(name)).findFirst();
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REDIRECTS = 5;
    /** Attempts for a request the Hub answers with 429 or 5xx, or that cannot connect: then the error is reported. */
    private static final int ATTEMPTS = 3;
    private static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration API_TIMEOUT = Duration.ofSeconds(60);
    private static final String USER_AGENT = "gpt2cls (java.net.http)";

    private final HubSettings settings;
    private final HttpClient http;

    public HubClient(HubSettings settings) {
        this.settings = settings;
        this.http = HttpClient.newBuilder().followRedirects(HttpClient.Redirect.NEVER).connectTimeout(CONNECT_TIMEOUT).build();
    }

    /** The commit {@code model.revision()} points to now, and its files. */
    public Revision revision(HubModelId model) throws IOException {
        URI uri = URI.create(settings.endpoint() + "/api/models/" + model.id() + "/revision/" + encode(model.revision()) + "?blobs=true");
        HttpResponse<InputStream> response = send(uri, API_TIMEOUT).response();
        try (InputStream body = response.body()) {
            check(response, model, null);
            JsonNode info;
            try {
                info = JSON.readTree(body);
            } catch (IOException e) {
                throw new HubException(uri + " did not answer with the JSON of a model (" + e.getMessage()
                        + "); is " + settings.endpoint() + " a Hugging Face Hub (HF_ENDPOINT)?");
            }
            String commit = info.path("sha").asText(null);
            if (commit == null) {
                throw new HubException(uri + " answered without the revision's commit ('sha'); is " + settings.endpoint()
                        + " a Hugging Face Hub (HF_ENDPOINT)?");
            }
            List<RepoFile> files = new ArrayList<>();
            for (JsonNode sibling : info.path("siblings")) {
                JsonNode lfs = sibling.path("lfs");
                files.add(new RepoFile(sibling.path("rfilename").asText(),
                        lfs.has("size") ? lfs.path("size").asLong() : sibling.path("size").asLong(-1),
                        lfs.path("sha256").asText(null)));
            }
            return new Revision(info.path("id").asText(model.id()), commit, files);
        }
    }

    /**
     * Downloads {@code file} of {@code revision} to {@code target}, checking its size and, where the Hub
     * states one (the LFS SHA-256 from the file list, or the {@code X-Linked-Etag} of the answer), its
     * SHA-256. A download cut short, stalled longer than the stall timeout, or with other bytes is an error,
     * and {@code target} is then to be discarded.
     */
    public void download(Revision revision, RepoFile file, Path target) throws IOException {
        HubModelId pinned = new HubModelId(revision.id(), revision.commit());
        URI uri = URI.create(settings.endpoint() + "/" + revision.id() + "/resolve/" + revision.commit() + "/" + encodePath(file.name()));
        Answer answer = send(uri, API_TIMEOUT);
        HttpResponse<InputStream> response = answer.response();
        String where = pinned.id() + "@" + revision.commit() + " " + file.name();
        try (InputStream body = response.body()) {
            check(response, pinned, file.name());
            long expectedSize = file.size() >= 0 ? file.size()
                    : response.headers().firstValueAsLong("content-length").orElse(-1);
            String expectedSha = file.sha256() != null ? file.sha256() : linkedEtag(answer.hubHeaders());
            MessageDigest sha256 = sha256();
            long received = copyWatchingForStalls(body, target, sha256, where, expectedSize);
            if (expectedSize >= 0 && received != expectedSize) {
                throw new HubException("the download of " + where + " was cut short: " + received + " of " + expectedSize
                        + " bytes arrived; nothing was kept, run again");
            }
            String actual = HexFormat.of().formatHex(sha256.digest());
            if (expectedSha != null && !expectedSha.equals(actual)) {
                throw new HubException("the download of " + where + " has SHA-256 " + actual + " but the Hub states "
                        + expectedSha + " for it (a corrupted transfer, or a mirror serving other bytes); nothing was kept, run again");
            }
        }
    }

    /**
     * Copies the body to {@code target}, hashing it; a watchdog closes the body when no byte has arrived for
     * the stall timeout, so a dead connection ends the wait with an error instead of hanging the run.
     */
    private long copyWatchingForStalls(InputStream body, Path target, MessageDigest sha256, String where, long expectedSize)
            throws IOException {
        AtomicLong lastProgress = new AtomicLong(System.nanoTime());
        AtomicBoolean stalled = new AtomicBoolean();
        long stallNanos = settings.stallTimeout().toNanos();
        ScheduledExecutorService watchdog = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "hub-download-watchdog");
            t.setDaemon(true);
            return t;
        });
        long period = Math.max(10, settings.stallTimeout().toMillis() / 4);
        ScheduledFuture<?> check = watchdog.scheduleAtFixedRate(() -> {
            if (System.nanoTime() - lastProgress.get() > stallNanos && stalled.compareAndSet(false, true)) {
                try {
                    body.close();
                } catch (IOException ignored) {
                    // the reader sees the closed stream
                }
            }
        }, period, period, TimeUnit.MILLISECONDS);
        long received = 0;
        try (OutputStream out = new DigestOutputStream(Files.newOutputStream(target), sha256)) {
            byte[] buffer = new byte[1 << 16];
            for (int n = body.read(buffer); n >= 0; n = body.read(buffer)) {
                out.write(buffer, 0, n);
                received += n;
                lastProgress.set(System.nanoTime());
            }
        } catch (IOException e) {
            if (stalled.get()) {
                throw new HubException("the download of " + where + " stalled: nothing arrived for " + settings.stallTimeout().toSeconds()
                        + " s after " + received + " bytes; run again", e);
            }
            throw new HubException("the download of " + where + " was cut short: " + received + " of " + expectedSize
                    + " bytes arrived before " + e.getMessage() + "; nothing was kept, run again", e);
        } finally {
            check.cancel(false);
            watchdog.shutdownNow();
        }
        return received;
    }

    /** The final answer to a request, and the headers of the Hub's own first answer (X-Linked-Etag, X-Repo-Commit). */
    private record Answer(HttpResponse<InputStream> response, HttpHeaders hubHeaders) {}

    /** Sends a GET, following redirects (see the class comment) and retrying what may pass (429, 5xx, no connection). */
    private Answer send(URI uri, Duration timeout) throws IOException {
        URI current = uri;
        boolean withToken = true;
        HttpHeaders hubHeaders = null;
        for (int hop = 0; hop <= MAX_REDIRECTS; hop++) {
            HttpResponse<InputStream> response = sendWithRetries(current, withToken, timeout);
            hubHeaders = hubHeaders == null ? response.headers() : hubHeaders;
            int status = response.statusCode();
            if (status < 300 || status >= 400 || status == 304) {
                return new Answer(response, hubHeaders);
            }
            response.body().close();
            Optional<String> location = response.headers().firstValue("location");
            if (location.isEmpty()) {
                throw new HubException(current + " answered " + status + " without a Location to follow");
            }
            URI next = current.resolve(location.get());
            if (!sameHost(next, settings.endpoint())) {
                withToken = false; // a CDN is not the Hub: the token stays with the Hub
            }
            current = next;
        }
        throw new HubException(uri + " redirected more than " + MAX_REDIRECTS + " times");
    }

    private HttpResponse<InputStream> sendWithRetries(URI uri, boolean withToken, Duration timeout) throws IOException {
        HttpRequest.Builder request = HttpRequest.newBuilder(uri).GET().timeout(timeout).header("User-Agent", USER_AGENT)
                .header("Accept-Encoding", "identity");
        if (withToken && settings.token().isPresent()) {
            request.header("Authorization", "Bearer " + settings.token().get());
        }
        for (int attempt = 1; ; attempt++) {
            try {
                HttpResponse<InputStream> response = http.send(request.build(), HttpResponse.BodyHandlers.ofInputStream());
                int status = response.statusCode();
                if ((status == 429 || status >= 500) && attempt < ATTEMPTS) {
                    response.body().close();
                    pause(attempt);
                    continue;
                }
                return response;
            } catch (IOException e) { // no connection, a timeout, a connection reset: the network's, not the caller's
                if (attempt >= ATTEMPTS) {
                    throw new HubException("cannot reach " + uri.getHost() + " (" + e + ") after " + ATTEMPTS + " attempts: check"
                            + " the network path to the Hub (HF_ENDPOINT=" + settings.endpoint() + "), or set HF_HUB_OFFLINE=1 to use"
                            + " only copies already in the store", e);
                }
                pause(attempt);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IOException("interrupted while waiting for " + uri, e);
            }
        }
    }

    private static void pause(int attempt) throws IOException {
        try {
            Thread.sleep(500L << attempt);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted between attempts", e);
        }
    }

    /** Turns an error answer into a message; returns on success. {@code file} is null for the revision request. */
    private void check(HttpResponse<InputStream> response, HubModelId model, String file) throws IOException {
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return;
        }
        String code = response.headers().firstValue("x-error-code").orElse("");
        String page = settings.endpoint() + "/" + model.id();
        String tokenState = settings.token().isPresent() ? "HF_TOKEN is set, and the Hub refused it"
                : "HF_TOKEN is not set";
        if (code.equals("GatedRepo") || (code.isEmpty() && (status == 401 || status == 403))) {
            throw new HubException("model " + model.id() + " is gated or private (the Hub answered " + status + "): accept its"
                    + " conditions at " + page + " and set HF_TOKEN to an access token of an account that may read it ("
                    + tokenState + ")");
        }
        if (code.equals("RepoNotFound") || (code.isEmpty() && status == 404 && file == null)) {
            throw new HubNotFoundException("no model '" + model.id() + "' on " + settings.endpoint() + " (it answered " + status
                    + "): check the id (e.g. openai-community/gpt2); a private repository needs HF_TOKEN (" + tokenState
                    + "); a local directory of that name does not exist either");
        }
        if (code.equals("RevisionNotFound")) {
            throw new HubNotFoundException("model " + model.id() + " has no revision '" + model.revision()
                    + "': name a branch, tag or commit of " + page + " (default: main)");
        }
        if (code.equals("EntryNotFound") || status == 404) {
            throw new HubNotFoundException("model " + model + " has no file '" + file + "' on " + settings.endpoint());
        }
        throw new HubException(settings.endpoint() + " answered " + status + " for " + model
                + (file == null ? "" : " " + file) + " (" + firstLine(response) + "); try again later");
    }

    private static String firstLine(HttpResponse<InputStream> response) {
        try {
            String body = new String(response.body().readNBytes(300), StandardCharsets.UTF_8).strip();
            int newline = body.indexOf('\n');
            return newline < 0 ? body : body.substring(0, newline);
        } catch (IOException e) {
            return "no body";
        }
    }

    /** The Hub's ETag of an LFS file is its SHA-256 (on the redirect's first answer: X-Linked-Etag). */
    private static String linkedEtag(HttpHeaders headers) {
        String etag = headers.firstValue("x-linked-etag").or(() -> headers.firstValue("etag")).orElse("");
        etag = etag.replace("W/", "").replace("\"", "").toLowerCase(Locale.ROOT);
        return etag.matches("[0-9a-f]{64}") ? etag : null;
    }

    private static boolean sameHost(URI a, URI b) {
        return a.getHost() != null && a.getHost().equalsIgnoreCase(b.getHost()) && a.getPort() == b.getPort();
    }

    private static String encode(String segment) {
        return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
    }

    private static String encodePath(String path) {
        List<String> segments = new ArrayList<>();
        for (String segment : path.split("/")) {
            segments.add(encode(segment));
        }
        return String.join("/", segments);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
