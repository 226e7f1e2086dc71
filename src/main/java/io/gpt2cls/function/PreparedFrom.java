package io.gpt2cls.function;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * What a prepared dataset is made from: the request (every field, defaults included) and the version
 * of each input file (its S3 ETag, or size, time and inode locally), hashed into one
 * <em>inputs version</em>. The manifest records it as {@code prepared_from}, and a run takes the
 * output's publish lease naming it, so the same inputs are prepared once: an event delivered twice,
 * or a data file and its settings file that each start a run, find the work done or under way.
 *
 * @param version the inputs version: 16 hex digits of the hash
 * @param files each input file's location (as the user gave it) and version
 */
record PreparedFrom(String version, Map<String, String> files) {

    static final String FIELD = "prepared_from";
    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    /** A file's version: as the store reports it now ({@code store::fileVersion}), or as a run planned it. */
    @FunctionalInterface
    interface FileVersions {
        String of(Location file) throws IOException;
    }

    static PreparedFrom of(FileVersions versions, PrepareRequest request, List<Location> train, List<Location> test,
                           Optional<Location> recipe, Path tokenizer) throws IOException {
        Map<String, String> files = new LinkedHashMap<>();
        for (Location file : train) {
            files.put(file.toString(), versions.of(file));
        }
        for (Location file : test) {
            files.put(file.toString(), versions.of(file));
        }
        if (recipe.isPresent()) {
            files.put(recipe.get().toString(), versions.of(recipe.get()));
        }
        StringBuilder identity = new StringBuilder(RequestParser.STRICT.writeValueAsString(RequestParser.STRICT.valueToTree(request)));
        files.forEach((location, version) -> identity.append('\n').append(location).append('\0').append(version));
        identity.append("\ntokenizer\0").append(TextTokenizer.sha256(Files.readAllBytes(tokenizer)));
        return new PreparedFrom(TextTokenizer.sha256(identity.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                .substring(0, 16), files);
    }

    /** What the run says in the output's publish lease: a second run of the same inputs recognises it. */
    String purpose() {
        return "prepare of inputs " + version;
    }

    /** Adds {@code prepared_from} to the manifest a run has just written. */
    void recordIn(Path manifest) throws IOException {
        ObjectNode tree = (ObjectNode) JSON.readTree(manifest.toFile());
        ObjectNode from = tree.putObject(FIELD);
        from.put("inputs_version", version);
        files.forEach(from.putObject("files")::put);
        JSON.writeValue(manifest.toFile(), tree);
    }

    /** The inputs version the committed dataset at {@code output} records, if there is one. */
    static Optional<String> recordedVersion(ArtifactStore store, Location output) throws IOException {
        if (!store.exists(output, Manifest.FILE)) {
            return Optional.empty();
        }
        Path manifest = store.fetchFile(output.resolve(Manifest.FILE));
        try (InputStream in = Files.newInputStream(manifest)) {
            JsonNode version = JSON.readTree(in).path(FIELD).path("inputs_version");
            return version.isTextual() ? Optional.of(version.asText()) : Optional.empty();
        } finally {
            store.release(manifest); // read once: a warm container's cache keeps no old manifests
        }
    }
}
