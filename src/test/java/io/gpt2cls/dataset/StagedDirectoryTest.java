package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class StagedDirectoryTest {

    @TempDir
    Path work;
    Path destination;

    @BeforeEach
    void previousOutput() throws IOException {
        destination = work.resolve("out");
        Files.createDirectories(destination);
        Files.writeString(destination.resolve("old-shard.safetensors"), "previous");
    }

    private static List<String> names(Path dir) throws IOException {
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.map(path -> path.getFileName().toString()).sorted().toList();
        }
    }

    @Test
    void aRunThatFailsBeforeCommitLeavesTheDestinationAndNoStagingBehind() throws Exception {
        assertThrows(IOException.class, () -> {
            try (StagedDirectory staged = StagedDirectory.beside(destination)) {
                Files.writeString(staged.path().resolve("manifest.json"), "half written");
                throw new IOException("disk full");
            }
        });

        assertEquals(List.of("old-shard.safetensors"), names(destination));
        assertEquals("previous", Files.readString(destination.resolve("old-shard.safetensors")));
        assertEquals(List.of("out"), names(work));
    }

    @Test
    void commitReplacesTheDestinationWholeAndRemovesThePreviousOne() throws Exception {
        try (StagedDirectory staged = StagedDirectory.beside(destination)) {
            Files.writeString(staged.path().resolve("manifest.json"), "new");
            assertEquals(List.of("old-shard.safetensors"), names(destination), "untouched until commit");
            staged.commit();
        }

        assertEquals(List.of("manifest.json"), names(destination));
        assertEquals(List.of("out"), names(work));
    }
}
