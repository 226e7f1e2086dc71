package io.gpt2cls.runtime;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * EC2's instance metadata service (IMDSv2) as far as a spot notice goes, on a free loopback port:
 * a token for a PUT to {@code /latest/api/token}, and {@code spot/instance-action} answering 404 (no
 * notice), 401 without the token, or the notice once {@link #announce} was called.
 */
public final class FakeInstanceMetadata implements AutoCloseable {

    public static final String TOKEN = "AQAEAFakeToken==";
    /** The notice's body as EC2 writes it. */
    public static final String NOTICE = "{\"action\": \"terminate\", \"time\": \"2026-12-03T09:00:00Z\"}";

    private final HttpServer server;
    private final List<String> requests = new ArrayList<>();
    private volatile boolean announced;

    public FakeInstanceMetadata() throws IOException {
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext("/", this::answer);
        server.start();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
    }

    /** From now on, spot/instance-action answers with the notice. */
    public void announce() {
        announced = true;
    }

    /** "METHOD path [ttl header] [token header]" per request so far. */
    public List<String> requests() {
        synchronized (requests) {
            return List.copyOf(requests);
        }
    }

    private void answer(HttpExchange exchange) throws IOException {
        String method = exchange.getRequestMethod();
        String path = exchange.getRequestURI().getPath();
        String ttl = exchange.getRequestHeaders().getFirst(SpotInterruptionWatcher.TOKEN_TTL_HEADER);
        String token = exchange.getRequestHeaders().getFirst(SpotInterruptionWatcher.TOKEN_HEADER);
        synchronized (requests) {
            requests.add(method + " " + path + (ttl == null ? "" : " ttl=" + ttl) + (token == null ? "" : " token=" + token));
        }
        if (method.equals("PUT") && path.equals(SpotInterruptionWatcher.TOKEN_PATH) && ttl != null) {
            respond(exchange, 200, TOKEN);
        } else if (method.equals("GET") && path.equals(SpotInterruptionWatcher.NOTICE_PATH)) {
            if (!TOKEN.equals(token)) {
                respond(exchange, 401, "");
            } else {
                respond(exchange, announced ? 200 : 404, announced ? NOTICE : "Not Found");
            }
        } else {
            respond(exchange, 400, "");
        }
    }

    private static void respond(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.sendResponseHeaders(status, bytes.length == 0 ? -1 : bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
