package io.gpt2cls.storage;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import io.gpt2cls.runtime.Directories;

/**
 * Starts an {@link S3ProxyServer} for a test class:
 * {@code @RegisterExtension static final S3ProxyExtension S3 = S3ProxyExtension.shared();}
 *
 * <p>{@link #shared()} starts one server for every class of the test run that asks for it (a start
 * costs a few seconds) and stops it at the end of the run; {@link #ownServer()} starts one for this
 * class only, for tests that kill and restart it.
 */
public final class S3ProxyExtension implements BeforeAllCallback {

    private static final ExtensionContext.Namespace NAMESPACE = ExtensionContext.Namespace.create(S3ProxyExtension.class);

    private final boolean shared;
    private S3ProxyServer server;

    private S3ProxyExtension(boolean shared) {
        this.shared = shared;
    }

    public static S3ProxyExtension shared() {
        return new S3ProxyExtension(true);
    }

    public static S3ProxyExtension ownServer() {
        return new S3ProxyExtension(false);
    }

    public S3ProxyServer server() {
        if (server == null) {
            throw new IllegalStateException("S3Proxy is started before the tests of the class that registers the extension");
        }
        return server;
    }

    @Override
    public void beforeAll(ExtensionContext context) {
        ExtensionContext.Store store = (shared ? context.getRoot() : context).getStore(NAMESPACE);
        server = store.computeIfAbsent("server", key -> Running.start(), Running.class).server;
    }

    /** A started server and its directory, both removed when JUnit closes the store that holds them. */
    private record Running(S3ProxyServer server, Path workDir) implements AutoCloseable {
        static Running start() {
            try {
                Path workDir = Files.createTempDirectory("s3proxy-");
                return new Running(S3ProxyServer.start(workDir), workDir);
            } catch (IOException e) {
                throw new IllegalStateException("could not start S3Proxy: " + e.getMessage(), e);
            }
        }

        @Override
        public void close() throws Exception {
            server.close();
            Directories.deleteTree(workDir);
        }
    }
}
