import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

/**
 * The AWS Lambda Runtime API (2018-06-01) for one execution environment, on loopback: it hands the
 * given events, in order, to whatever polls {@code /runtime/invocation/next} (the Runtime Interface
 * Client in a container, or Quarkus's own poll loop), writes each answer to {@code ANSWERS/<event file
 * name>}, and exits when every event is answered (0), when the function reports an error or fails to
 * initialise (1), or when the wait runs out (3). Timings are measured from the moment the port is written.
 *
 * <pre>java infra/scripts/RuntimeApiEmulator.java --answers DIR --port-file FILE [--wait-s 600]
 *     [--function-timeout-s 300] [--function-arn ARN] EVENT.json...</pre>
 *
 * Only what a function sees is emulated: no freezing between invocations, no timeout enforcement (the
 * deadline header is sent; the overall wait bounds the run), one invocation at a time.
 */
public class RuntimeApiEmulator {

    record Invocation(String requestId, String name, byte[] event) {}

    private static final String PREFIX = "/2018-06-01/runtime/";

    private final BlockingQueue<Invocation> pending = new LinkedBlockingQueue<>();
    private final Map<String, Invocation> inFlight = new ConcurrentHashMap<>();
    private final Map<String, Long> startedAt = new ConcurrentHashMap<>();
    private final CountDownLatch finished = new CountDownLatch(1);
    private final Path answers;
    private final String functionArn;
    private final long functionTimeoutMillis;
    private final long readyAt = System.nanoTime();
    private volatile int remaining;
    private volatile String failure;
    private volatile boolean firstAnswer = true;

    RuntimeApiEmulator(List<Path> events, Path answers, String functionArn, long functionTimeoutMillis) throws IOException {
        this.answers = answers;
        this.functionArn = functionArn;
        this.functionTimeoutMillis = functionTimeoutMillis;
        for (Path event : events) {
            pending.add(new Invocation(UUID.randomUUID().toString(), event.getFileName().toString(), Files.readAllBytes(event)));
        }
        remaining = events.size();
    }

    public static void main(String[] args) throws Exception {
        Path answers = null;
        Path portFile = null;
        long waitSeconds = 600;
        long functionTimeoutSeconds = 300;
        String arn = "arn:aws:lambda:us-east-1:123456789012:function:gpt2cls-check";
        List<Path> events = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--answers" -> answers = Path.of(args[++i]);
                case "--port-file" -> portFile = Path.of(args[++i]);
                case "--wait-s" -> waitSeconds = Long.parseLong(args[++i]);
                case "--function-timeout-s" -> functionTimeoutSeconds = Long.parseLong(args[++i]);
                case "--function-arn" -> arn = args[++i];
                default -> events.add(Path.of(args[i]));
            }
        }
        if (answers == null || portFile == null || events.isEmpty()) {
            System.err.println("usage: java RuntimeApiEmulator.java --answers DIR --port-file FILE [--wait-s N]"
                    + " [--function-timeout-s N] [--function-arn ARN] EVENT.json...");
            System.exit(2);
        }
        Files.createDirectories(answers);
        RuntimeApiEmulator emulator = new RuntimeApiEmulator(events, answers, arn, functionTimeoutSeconds * 1000);
        HttpServer server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.createContext(PREFIX, emulator::handle);
        server.setExecutor(Executors.newCachedThreadPool()); // a /next request waits for the next event
        server.start();
        Path written = Files.writeString(portFile.resolveSibling(portFile.getFileName() + ".tmp"),
                String.valueOf(server.getAddress().getPort()));
        Files.move(written, portFile, StandardCopyOption.ATOMIC_MOVE);

        boolean done = emulator.finished.await(waitSeconds, TimeUnit.SECONDS);
        server.stop(0);
        if (!done) {
            System.out.printf("error: %d of %d events unanswered after %d s (init error? a hung function? see its log)%n",
                    emulator.remaining, events.size(), waitSeconds);
            System.exit(3);
        }
        if (emulator.failure != null) {
            System.out.println("error: " + emulator.failure);
            System.exit(1);
        }
        System.exit(0);
    }

    private void handle(HttpExchange exchange) throws IOException {
        try (exchange) {
            String path = exchange.getRequestURI().getPath().substring(PREFIX.length());
            String method = exchange.getRequestMethod();
            byte[] body = readAll(exchange.getRequestBody());
            if (method.equals("GET") && path.equals("invocation/next")) {
                next(exchange);
            } else if (method.equals("POST") && path.equals("init/error")) {
                fail("the function failed to initialise: " + errorOf(exchange, body));
                reply(exchange, 202, "{\"status\":\"OK\"}");
            } else if (method.equals("POST") && path.startsWith("invocation/") && (path.endsWith("/response") || path.endsWith("/error"))) {
                String requestId = path.substring("invocation/".length(), path.lastIndexOf('/'));
                Invocation invocation = inFlight.remove(requestId);
                if (invocation == null) {
                    reply(exchange, 400, "{\"errorMessage\":\"unknown or already answered request id " + requestId + "\"}");
                } else if (path.endsWith("/error")) {
                    fail(invocation.name() + " failed: " + errorOf(exchange, body));
                    reply(exchange, 202, "{\"status\":\"OK\"}");
                } else {
                    answered(invocation, body);
                    reply(exchange, 202, "{\"status\":\"OK\"}");
                }
            } else {
                reply(exchange, 404, "{\"errorMessage\":\"no such Runtime API endpoint: " + method + " " + PREFIX + path + "\"}");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void next(HttpExchange exchange) throws IOException, InterruptedException {
        Invocation invocation = pending.take(); // after the last event the function waits here, as a frozen one would
        if (startedAt.isEmpty()) {
            System.out.printf("init: the function asked for its first event after %d ms%n", millisSince(readyAt));
        }
        inFlight.put(invocation.requestId(), invocation);
        startedAt.put(invocation.requestId(), System.nanoTime());
        var headers = exchange.getResponseHeaders();
        headers.set("Content-Type", "application/json");
        headers.set("Lambda-Runtime-Aws-Request-Id", invocation.requestId());
        headers.set("Lambda-Runtime-Deadline-Ms", String.valueOf(System.currentTimeMillis() + functionTimeoutMillis));
        headers.set("Lambda-Runtime-Invoked-Function-Arn", functionArn);
        headers.set("Lambda-Runtime-Trace-Id", "Root=1-00000000-" + invocation.requestId().replace("-", "").substring(0, 24) + ";Sampled=0");
        exchange.sendResponseHeaders(200, invocation.event().length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(invocation.event());
        }
    }

    private void answered(Invocation invocation, byte[] answer) throws IOException {
        Files.write(answers.resolve(invocation.name()), answer);
        long took = millisSince(startedAt.get(invocation.requestId()));
        if (firstAnswer) {
            firstAnswer = false;
            System.out.printf("cold start: first answer %d ms after the Runtime API was up (%s, %d ms in the function)%n",
                    millisSince(readyAt), invocation.name(), took);
        } else {
            System.out.printf("%s: answered in %d ms%n", invocation.name(), took);
        }
        if (--remaining == 0) {
            finished.countDown();
        }
    }

    private void fail(String message) {
        failure = message;
        finished.countDown();
    }

    private static String errorOf(HttpExchange exchange, byte[] body) {
        String type = exchange.getRequestHeaders().getFirst("Lambda-Runtime-Function-Error-Type");
        return (type == null ? "" : type + ": ") + new String(body, StandardCharsets.UTF_8);
    }

    private static void reply(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            return in.readAllBytes();
        }
    }

    private static long millisSince(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - nanos);
    }
}
