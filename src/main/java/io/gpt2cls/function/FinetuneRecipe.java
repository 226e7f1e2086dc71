package io.gpt2cls.function;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * A dataset's training recipe: a {@code finetune.json} (a finetune request without {@code dataset})
 * uploaded beside the training data, published with the prepared dataset, and taken by a finetune
 * request for every field it does not give itself. This is how a job started by an upload, whose
 * request names only the dataset, trains from a Hub base model or with chosen hyperparameters.
 */
final class FinetuneRecipe {

    static final String FILE = "finetune.json";

    private FinetuneRecipe() {}

    /** Reads and checks a recipe; problems name the file. */
    static ObjectNode read(Path file, String location) throws IOException {
        FinetuneRequest recipe;
        try (InputStream in = Files.newInputStream(file)) {
            recipe = RequestParser.parse(in, FinetuneRequest.class);
        } catch (InvalidRequestException e) {
            throw new InvalidRequestException(e.field(), location + ": " + e.getMessage());
        }
        if (recipe.dataset != null) {
            throw new InvalidRequestException("dataset", location + ": a training recipe must not name a dataset;"
                    + " it is the recipe of the dataset it is published with");
        }
        return recipe.json();
    }

    /** The request with every field it leaves out taken from the recipe (objects such as training merged field by field). */
    static FinetuneRequest apply(ObjectNode recipe, FinetuneRequest request) {
        ObjectNode merged = recipe.deepCopy();
        merge(merged, request.json());
        return RequestParser.bind(merged, FinetuneRequest.class);
    }

    private static void merge(ObjectNode into, JsonNode over) {
        over.fields().forEachRemaining(field -> {
            JsonNode existing = into.get(field.getKey());
            if (existing instanceof ObjectNode target && field.getValue().isObject()) {
                merge(target, field.getValue());
            } else if (!field.getValue().isNull()) {
                into.set(field.getKey(), field.getValue());
            }
        });
    }
}
