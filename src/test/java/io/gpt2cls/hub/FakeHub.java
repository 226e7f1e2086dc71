package io.gpt2cls.hub;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * The Hugging Face Hub on loopback, answering as huggingface.co does: the revision API with the file list
 * ({@code ?blobs=true}: sizes and LFS SHA-256), {@code resolve} with a 302 to a CDN for LFS files (another
 * host name, {@code localhost} instead of {@code 127.0.0.1}) carrying {@code X-Repo-Commit},
 * {@code X-Linked-Etag} and {@code X-Linked-Size}, a 307 from a legacy id to its canonical repository,
 * {@code X-Error-Code} on errors (an unknown repository is a 401 to an anonymous caller, as on the Hub).
 * Counts every request by path, and remembers whether the CDN was sent a token.
 */
public final class FakeHub implements AutoCloseable {

    public static final String TOKEN = "hf_test_token";
    public static final String LFS = "model.safetensors";

    /** One repository at one commit. */
    public static final class Repo {
        final String id;
        final String commit;
        final Map<String, byte[]> files = new LinkedHashMap<>();
        public boolean gated;
        /** What the file list states as the weights' SHA-256, when it should lie. */
        String statedSha256;
        /** Serve only this many bytes of the weights (with the full Content-Length), when it should cut them short. */
        int cutAfter = -1;

        public Repo(String id, String commit) {
            this.id = id;
            this.commit = commit;
        }

        public Repo withFilesOf(Path dir) throws IOException {
            try (Stream<Path> list = Files.list(dir)) {
                for (Path file : list.sorted().toList()) {
                    files.put(file.getFileName().toString(), Files.readAllBytes(file));
                }
            }
            return this;
        }
    }

    private static final ObjectMapper JSON = new ObjectMapper();

    private final HttpServer server;
    private final Map<String, Repo> repos = new ConcurrentHashMap<>();
    private final Map<String, String> legacy = new ConcurrentHashMap<>();
    final Map<String, AtomicInteger> requests = new ConcurrentHashMap<>();
    final List<String> cdnAuthorizations = new CopyOnWriteArrayList<>();

    public FakeHub() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", this::handle);
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    public Repo add(Repo repo) {
        repos.put(repo.id, repo);
        return repo;
    }

    public void redirect(String legacyId, String canonicalId) {
        legacy.put(legacyId, canonicalId);
    }

    /** Requests for a file's bytes: those the Hub answered itself plus those its CDN did. */
    public int downloads(Repo repo, String file) {
        return count("/" + repo.id + "/resolve/" + repo.commit + "/" + file);
    }

    public int count(String path) {
        return requests.getOrDefault(path, new AtomicInteger()).get();
    }

    public int total() {
        return requests.values().stream().mapToInt(AtomicInteger::get).sum();
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath();
            requests.computeIfAbsent(path, p -> new AtomicInteger()).incrementAndGet();
            if (path.startsWith("/api/models/")) {
                api(exchange, path.substring("/api/models/".length()));
            } else if (path.startsWith("/cdn/")) {
                cdn(exchange, path.substring("/cdn/".length()));
            } else if (path.contains("/resolve/")) {
                resolve(exchange, path);
            } else {
                send(exchange, 404, Map.of(), "{\"error\": \"no such page\"}");
            }
        }
    }

    /** /api/models/{id}/revision/{rev} */
    private void api(HttpExchange exchange, String rest) throws IOException {
        int at = rest.indexOf("/revision/");
        String id = rest.substring(0, at);
        String revision = rest.substring(at + "/revision/".length());
        if (legacy.containsKey(id)) {
            send(exchange, 307, Map.of("Location", "/api/models/" + legacy.get(id) + "/revision/" + revision + "?blobs=true"), "");
            return;
        }
        Repo repo = accessible(exchange, id);
        if (repo == null) {
            return;
        }
        if (!revision.equals("main") && !revision.equals(repo.commit)) {
            send(exchange, 404, Map.of("X-Error-Code", "RevisionNotFound"), "{\"error\": \"Invalid rev id: " + revision + "\"}");
            return;
        }
        ObjectNode info = JSON.createObjectNode();
        info.put("_id", "0123456789abcdef01234567").put("id", repo.id).put("modelId", repo.id).put("sha", repo.commit)
                .put("private", false).put("gated", repo.gated ? "auto" : "false");
        ArrayNode siblings = info.putArray("siblings");
        for (Map.Entry<String, byte[]> file : repo.files.entrySet()) {
            ObjectNode sibling = siblings.addObject().put("rfilename", file.getKey())
                    .put("blobId", TextTokenizer.sha256(file.getValue()).substring(0, 40)).put("size", file.getValue().length);
            if (file.getKey().equals(LFS)) {
                sibling.putObject("lfs").put("sha256", statedSha256(repo, file.getValue())).put("size", file.getValue().length)
                        .put("pointerSize", 134);
            }
        }
        send(exchange, 200, Map.of("Content-Type", "application/json"), JSON.writeValueAsString(info));
    }

    /** /{id}/resolve/{commit}/{file}: small files directly, LFS files by a redirect to the CDN. */
    private void resolve(HttpExchange exchange, String path) throws IOException {
        String[] parts = path.substring(1).split("/resolve/", 2);
        Repo repo = accessible(exchange, parts[0]);
        if (repo == null) {
            return;
        }
        String[] revisionAndFile = parts[1].split("/", 2);
        byte[] bytes = repo.files.get(revisionAndFile[1]);
        if (!revisionAndFile[0].equals(repo.commit) || bytes == null) {
            send(exchange, 404, Map.of("X-Error-Code", "EntryNotFound"), "Entry not found");
            return;
        }
        if (revisionAndFile[1].equals(LFS)) {
            String sha = statedSha256(repo, bytes);
            send(exchange, 302, Map.of("Location", "http://localhost:" + server.getAddress().getPort() + "/cdn/" + repo.id + "/"
                            + sha, "X-Repo-Commit", repo.commit, "X-Linked-Etag", "\"" + sha + "\"", "X-Linked-Size",
                    Integer.toString(bytes.length), "ETag", "W/\"" + sha.substring(0, 20) + "\""), "");
            return;
        }
        exchange.getResponseHeaders().add("X-Repo-Commit", repo.commit);
        exchange.getResponseHeaders().add("ETag", "\"" + TextTokenizer.sha256(bytes).substring(0, 40) + "\"");
        exchange.sendResponseHeaders(200, bytes.length);
        exchange.getResponseBody().write(bytes);
    }

    /** /cdn/{id}/{sha}: no token wanted here; the bytes, or the first cutAfter of them. */
    private void cdn(HttpExchange exchange, String rest) throws IOException {
        String authorization = exchange.getRequestHeaders().getFirst("Authorization");
        if (authorization != null) {
            cdnAuthorizations.add(authorization);
        }
        String id = rest.substring(0, rest.lastIndexOf('/'));
        Repo repo = repos.get(id);
        byte[] bytes = repo.files.get(LFS);
        exchange.sendResponseHeaders(200, bytes.length);
        OutputStream body = exchange.getResponseBody();
        if (repo.cutAfter >= 0) {
            body.write(bytes, 0, repo.cutAfter);
            body.flush();
            // closing a fixed-length body early drops the connection, as a broken transfer does
        } else {
            body.write(bytes);
        }
    }

    /** The repository, or null after answering as the Hub does when it is unknown or gated for this caller. */
    private Repo accessible(HttpExchange exchange, String id) throws IOException {
        Repo repo = repos.get(id);
        boolean authorized = ("Bearer " + TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"));
        if (repo == null) {
            send(exchange, authorized ? 404 : 401, Map.of("X-Error-Code", "RepoNotFound"), "{\"error\": \"Repository Not Found\"}");
            return null;
        }
        if (repo.gated && !authorized) {
            send(exchange, 401, Map.of("X-Error-Code", "GatedRepo"),
                    "{\"error\": \"Access to model " + id + " is restricted. You must have access to it and be authenticated.\"}");
            return null;
        }
        return repo;
    }

    private static String statedSha256(Repo repo, byte[] bytes) {
        return repo.statedSha256 != null ? repo.statedSha256 : TextTokenizer.sha256(bytes);
    }

    private static void send(HttpExchange exchange, int status, Map<String, String> headers, String body) throws IOException {
        headers.forEach((k, v) -> exchange.getResponseHeaders().add(k, v));
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        if (bytes.length > 0) {
            exchange.getResponseBody().write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }

}
