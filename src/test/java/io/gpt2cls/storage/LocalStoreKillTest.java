package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * kill -9 at random moments while a set is being staged and published: what a reader finds is
 * always one complete version (every file's SHA-256 matches the commit object), never a mix, and
 * the next run into the same place leaves no staging or publishing directory behind. Most kills land
 * while files are written; the states between two renames are pinned one by one in {@link LocalStoreTest}.
 */
class LocalStoreKillTest {

    static final int KILLS = 8;

    @TempDir
    Path work;

    @Test
    void aKilledPublisherLeavesACompleteSetAndNoLeftovers() throws Exception {
        Path target = work.resolve("model");
        Random random = new Random(5);
        LocalStore store = new LocalStore();
        long lastSeen = 0;
        for (int kill = 0; kill < KILLS; kill++) {
            Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                    "-cp", System.getProperty("java.class.path"), PublishLoop.class.getName(), target.toString())
                    .redirectErrorStream(true).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream()));
            // once it has published in this run, kill it at a random moment of a later publish (one takes ~50-100 ms)
            String line = out.readLine();
            assertTrue(line != null && line.startsWith("published"), "child said: " + line);
            Thread.sleep(random.nextInt(150));
            child.destroyForcibly().waitFor();

            JsonNode commit = new ObjectMapper().readTree(store.fetchSet(Location.of(target), PublishLoop.COMMIT)
                    .resolve(PublishLoop.COMMIT).toFile());
            for (int f = 0; f < PublishLoop.FILES; f++) {
                String name = "part-" + f + ".bin";
                assertEquals(commit.get(name).asText(), TextTokenizer.sha256(Files.readAllBytes(target.resolve(name))),
                        name + " belongs to another version than the commit object after kill " + kill);
            }
            try (Stream<Path> files = Files.list(target)) {
                assertEquals(PublishLoop.FILES + 1, files.count(), "no stray files in the set");
            }
            lastSeen = Math.max(lastSeen, commit.get("version").asLong());
        }
        store.stage(Location.of(target), PublishLoop.COMMIT).close(); // the next run into the same place
        try (Stream<Path> entries = Files.list(work)) {
            assertEquals(List.of("model"), entries.map(p -> p.getFileName().toString()).toList(),
                    "staging and publishing directories of killed runs are gone");
        }
        assertTrue(lastSeen >= 1);
    }
}
