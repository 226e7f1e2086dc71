package io.gpt2cls.dataset;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;

/** Small datasets written into a test's temporary directory, and ways to look at what prepare wrote. */
final class DatasetFixtures {

    static final ObjectMapper JSON = new ObjectMapper();
    static final Clock FIXED_CLOCK = Clock.fixed(Instant.parse("2026-01-02T03:04:05Z"), ZoneOffset.UTC);

    private DatasetFixtures() {}

    static Path write(Path dir, String name, String content) throws IOException {
        Path file = dir.resolve(name);
        Files.writeString(file, content, StandardCharsets.UTF_8);
        return file;
    }

    static String jsonLine(String text, Object label) throws IOException {
        return JSON.writeValueAsString(Map.of("text", text, "label", label));
    }

    static PrepareSpec spec(Path trainFile, Path tokenizer, Path outputDir) {
        PrepareSpec spec = new PrepareSpec();
        spec.trainFiles = List.of(named(trainFile));
        spec.tokenizer = tokenizer;
        spec.outputDir = outputDir;
        return spec;
    }

    /** A file known by its name alone, as if the user had given a relative path: reports then read "train.jsonl line 3". */
    static InputFile named(Path file) {
        return new InputFile(file, file.getFileName().toString());
    }

    /** Prepares into a staged set and publishes it at {@code spec.outputDir}, as the prepare function does. */
    static PrepareSummary prepare(PrepareSpec spec) throws IOException {
        Path output = spec.outputDir;
        try (ArtifactStore.Staging staging = new LocalStore().stage(Location.of(output), Manifest.FILE)) {
            spec.outputDir = staging.dir();
            PrepareSummary summary = new DatasetPreparer(FIXED_CLOCK).prepare(spec);
            staging.commit();
            return summary;
        } finally {
            spec.outputDir = output;
        }
    }

    static List<JsonNode> rejected(Path outputDir) throws IOException {
        List<JsonNode> rows = new ArrayList<>();
        for (String line : Files.readAllLines(outputDir.resolve(Manifest.REJECTED_FILE))) {
            rows.add(JSON.readTree(line));
        }
        return rows;
    }

    /** Every file under {@code dir} with its bytes, to compare whole outputs. */
    static Map<String, byte[]> snapshot(Path dir) throws IOException {
        Map<String, byte[]> files = new TreeMap<>();
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path path : (Iterable<Path>) paths.filter(Files::isRegularFile)::iterator) {
                files.put(dir.relativize(path).toString(), Files.readAllBytes(path));
            }
        }
        return files;
    }

    /** Names in {@code dir}'s parent other than {@code dir} itself: staging leftovers would show here. */
    static List<String> siblings(Path dir) throws IOException {
        try (Stream<Path> paths = Files.list(dir.getParent())) {
            return paths.filter(path -> !path.equals(dir)).map(path -> path.getFileName().toString()).sorted().toList();
        }
    }
}
