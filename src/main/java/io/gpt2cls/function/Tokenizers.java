package io.gpt2cls.function;

import java.io.IOException;
import java.nio.file.Path;

import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.TextTokenizer;

/** Where a request's tokenizer comes from. */
final class Tokenizers {

    private Tokenizers() {}

    /**
     * A local copy of the tokenizer at {@code tokenizer} (a tokenizer.json, or a directory holding one)
     * together with the files beside it: tokenizer_config.json and special_tokens_map.json carry the
     * pad token and the cut that checkpoints must repeat, so they travel with it from S3 too.
     */
    static Path fetch(ArtifactStore store, Location tokenizer) throws IOException {
        boolean file = tokenizer.name().endsWith(".json");
        Location dir = file ? tokenizer.parent() : tokenizer;
        String name = file ? tokenizer.name() : TextTokenizer.TOKENIZER_FILE;
        return store.fetchSet(dir, name).resolve(name);
    }
}
