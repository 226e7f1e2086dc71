package io.gpt2cls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.hub.FakeHub;
import io.gpt2cls.hub.TinyHubGpt2;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/** {@code hub-import}: a Hub model into a store location from the command line, pinned; its errors one line each. */
@QuarkusMainTest
@TestProfile(HubImportCommandTest.LoopbackHub.class)
class HubImportCommandTest {

    static final String ID = "hf-test-org/tiny-gpt2";
    static final String COMMIT = "c0ffee0123456789abcdef0123456789abcdef01";

    /** The application's Hub is a loopback one, started once for this class. */
    public static class LoopbackHub implements QuarkusTestProfile {
        static final FakeHub HUB = start();

        static FakeHub start() {
            try {
                FakeHub hub = new FakeHub();
                Path files = TinyHubGpt2.writeTo(Files.createTempDirectory("tiny-gpt2-"));
                hub.add(new FakeHub.Repo(ID, COMMIT).withFilesOf(files));
                hub.add(new FakeHub.Repo("hf-test-org/gated-gpt2", COMMIT).withFilesOf(files)).gated = true;
                return hub;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }

        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("gpt2cls.hub.endpoint", HUB.endpoint().toString(), "gpt2cls.hub.token", "");
        }
    }

    @Test
    void importsAModelPinnedToItsCommit(QuarkusMainLauncher launcher, @TempDir Path dir) {
        Path to = dir.resolve("base-models");
        LaunchResult result = launcher.launch("hub-import", ID, "--to", to.toString());
        assertEquals(0, result.exitCode(), result.getErrorOutput());
        assertTrue(result.getOutput().contains("\"pinned\" : \"" + ID + "@" + COMMIT + "\""), result.getOutput());
        assertTrue(Files.exists(to.resolve(ID + "@" + COMMIT + "/model.safetensors")));
        assertTrue(Files.exists(to.resolve(ID + "@" + COMMIT + "/hub_revision.json")));
    }

    @Test
    void errorsAreOneLineAUserCanActOn(QuarkusMainLauncher launcher, @TempDir Path dir) {
        String to = dir.resolve("base-models").toString();
        assertFailure(launcher.launch("hub-import", "hf-test-org/nothing-here", "--to", to), 1, "no model 'hf-test-org/nothing-here'");
        assertFailure(launcher.launch("hub-import", "hf-test-org/gated-gpt2", "--to", to), 1, "HF_TOKEN is not set");
        assertFailure(launcher.launch("hub-import", "s3://bucket/x", "--to", to), 2, "is not a Hub model id");
    }

    private static void assertFailure(LaunchResult result, int exitCode, String message) {
        assertEquals(exitCode, result.exitCode(), result.getOutput() + result.getErrorOutput());
        assertTrue(result.getErrorOutput().contains(message), result.getErrorOutput());
    }
}
