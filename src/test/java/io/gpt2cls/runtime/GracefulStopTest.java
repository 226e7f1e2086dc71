package io.gpt2cls.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The stop deadline, in child JVMs busy in libtorch: work that stops in time exits as usual (143
 * after SIGTERM, 0 after a notice); work that outlasts the deadline ends the process with 142,
 * after SIGTERM and after a notice alike, without the JVM crash that exiting under a thread inside
 * libtorch causes.
 */
class GracefulStopTest {

    @Test
    void workThatOutlastsTheStopDeadlineEndsTheProcessWith142WithoutACrash(@TempDir Path dir) throws Exception {
        for (boolean notice : new boolean[] {false, true}) {
            Finished child = run(dir, "stuck", notice);
            assertEquals(GracefulStop.DEADLINE_PASSED_EXIT_STATUS, child.status(), child.output());
            assertTrue(child.output().contains("the stop deadline (1 s) passed"), child.output());
            assertFalse(child.output().contains("A fatal error") || child.output().contains("STOPPED IN TIME"), child.output());
            try (Stream<Path> files = Files.list(dir)) {
                assertTrue(files.noneMatch(f -> f.getFileName().toString().startsWith("hs_err")), "no hs_err file");
            }
        }
    }

    @Test
    void workThatStopsInTimeExitsAsUsual(@TempDir Path dir) throws Exception {
        Finished signalled = run(dir, "cooperative", false);
        assertEquals(143, signalled.status(), signalled.output());
        assertTrue(signalled.output().contains("the work under way stopped"), signalled.output());
        Finished noticed = run(dir, "cooperative", true);
        assertEquals(0, noticed.status(), noticed.output());
        assertTrue(noticed.output().contains("STOPPED IN TIME"), noticed.output());
    }

    record Finished(int status, String output) {}

    /** A {@link StopDeadlineChild} with a 1 s deadline, stopped by SIGTERM once it works, or by its own notice. */
    static Finished run(Path dir, String work, boolean notice) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-Xmx256m", "-XX:ErrorFile=" + dir.resolve("hs_err_pid%p.log"),
                "-Djava.util.logging.manager=org.jboss.logmanager.LogManager", "-Dai.djl.offline=true",
                "-cp", System.getProperty("java.class.path"), StopDeadlineChild.class.getName(), "1000", work));
        if (notice) {
            command.add("notice");
        }
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
        builder.environment().putIfAbsent("OMP_WAIT_POLICY", "PASSIVE");
        Process process = builder.start();
        Thread reaper = new Thread(() -> { // a child that never ends must not hang the test
            try {
                if (!process.waitFor(120, TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (InterruptedException e) {
                process.destroyForcibly();
            }
        });
        reaper.setDaemon(true);
        reaper.start();
        StringBuilder output = new StringBuilder();
        try (BufferedReader in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                output.append(line).append('\n');
                if (line.equals("WORKING") && !notice) {
                    process.toHandle().destroy(); // SIGTERM
                }
            }
        }
        process.waitFor();
        return new Finished(process.exitValue(), output.toString());
    }
}
