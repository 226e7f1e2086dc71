package io.gpt2cls.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * {@code hub_revision.json}, beside the files of a base model fetched from the Hugging Face Hub: which
 * repository, which revision was asked for, and the commit it was pinned to. Fine-tuning records it in
 * {@code trainer_state.json}; offline, it tells which cached commit a branch name last resolved to.
 *
 * @param id the repository as the Hub names it ({@code openai-community/gpt2}, also when asked for {@code gpt2})
 * @param revision the branch, tag or commit that was asked for
 * @param commit the commit it resolved to (40 hex digits)
 * @param endpoint the Hub (or mirror) it came from
 * @param fetchedAt when it was fetched (ISO-8601)
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonInclude(JsonInclude.Include.NON_NULL)
public record HubRevision(String id, String revision, String commit, String endpoint, String fetchedAt) {

    public static final String FILE = "hub_revision.json";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    /** {@code id@commit}: how logs, trainer_state.json and the store's directory name a pinned revision. */
    public String pinned() {
        return id + "@" + commit;
    }

    public void writeTo(Path dir) throws IOException {
        JSON.writeValue(dir.resolve(FILE).toFile(), this);
    }

    /** The record in a model directory, or empty for a model that did not come from the Hub. */
    public static Optional<HubRevision> readFrom(Path dir) throws IOException {
        Path file = dir.resolve(FILE);
        if (!Files.isRegularFile(file)) {
            return Optional.empty();
        }
        try {
            return Optional.of(JSON.readValue(file.toFile(), HubRevision.class));
        } catch (IOException e) {
            throw new ModelFormatException(file + " is not a Hub revision record (" + e.getMessage() + "); fetch the model again");
        }
    }
}
