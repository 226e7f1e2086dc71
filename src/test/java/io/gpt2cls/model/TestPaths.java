package io.gpt2cls.model;

import java.net.URISyntaxException;
import java.nio.file.Path;

public final class TestPaths {
    private TestPaths() {}

    public static Path resource(String name) {
        try {
            return Path.of(TestPaths.class.getClassLoader().getResource(name).toURI());
        } catch (URISyntaxException | NullPointerException e) {
            throw new IllegalStateException("test resource " + name + " is missing", e);
        }
    }
}
