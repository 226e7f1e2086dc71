package io.gpt2cls.function;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Optional;
import java.util.Set;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.gpt2cls.hub.HubModelId;
import io.gpt2cls.hub.HubModels;
import io.gpt2cls.hub.HubSettings;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;

/**
 * Where a request's {@code base_model} or {@code tokenizer} is in the store. A location is itself; a
 * Hugging Face Hub model id ({@code openai-community/gpt2}, {@code gpt2@<commit>}) is its pinned copy under
 * {@code base-models/}, fetched once ({@link HubModels}). As with transformers' {@code from_pretrained}, a
 * local directory of the same name wins over the Hub.
 */
@ApplicationScoped
public class BaseModels {

    /** The store's directory of Hub models, beside {@code prepared/} and {@code models/}. */
    public static final String DIRECTORY = "base-models";
    private static final Set<String> BESIDE = Set.of(PrepareTrigger.PREPARED, FinetuneService.MODELS);

    /**
     * @param location where the files are
     * @param name what to record: the location as given, or the Hub model pinned ({@code id@commit})
     * @param fromHub whether it was named by a Hub model id
     */
    record Source(Location location, String name, boolean fromHub) {}

    @Inject
    ArtifactStore store;

    @Inject
    AppConfig config;

    private HubModels hub;

    /** One made by hand, for services built without CDI (plain tests). */
    static BaseModels of(ArtifactStore store, AppConfig config) {
        BaseModels baseModels = new BaseModels();
        baseModels.store = store;
        baseModels.config = config;
        return baseModels;
    }

    /** {@code given} (the request's {@code field}) in the store; {@code output} places a Hub model's copy by default. */
    Source resolve(String given, String field, Location output) throws IOException {
        Optional<HubModelId> model = HubModelId.parse(given);
        if (model.isEmpty() || existsLocally(given)) {
            return new Source(Location.parse(given), given, false);
        }
        HubModels.Copy copy = hub().resolve(model.get(), baseModelsFor(model.get(), field, output));
        return new Source(copy.location(), copy.pinned(), true);
    }

    /** {@code model} pinned and kept under {@code baseModels} (the {@code hub-import} command). */
    public HubModels.Copy importTo(HubModelId model, Location baseModels) throws IOException {
        return hub().resolve(model, baseModels);
    }

    /** {@code gpt2cls.hub.base-models}, else {@code <root>/base-models} for an output at {@code <root>/prepared|models/<name>}. */
    Location baseModelsFor(HubModelId model, String field, Location output) {
        Optional<String> configured = config.hub().baseModels();
        if (configured.isPresent()) {
            return Location.parse(configured.get());
        }
        Location parent = output.parent();
        if (!BESIDE.contains(parent.name()) || parent.parent().equals(parent)) {
            throw new InvalidRequestException(field, "field '" + field + "' names the Hub model " + model + ", which is kept in the"
                    + " store under <root>/" + DIRECTORY + "/ beside prepared/ and models/; the output " + output + " is in neither,"
                    + " so set gpt2cls.hub.base-models (GPT2CLS_HUB_BASE_MODELS) to where Hub models go, e.g. s3://bucket/"
                    + DIRECTORY);
        }
        return parent.parent().resolve(DIRECTORY);
    }

    synchronized HubModels hub() {
        if (hub == null) {
            hub = new HubModels(store, settings(config.hub()));
        }
        return hub;
    }

    static HubSettings settings(AppConfig.Hub hub) {
        return HubSettings.online(hub.endpoint(), hub.token()).withOffline(hub.offline()).withStallTimeout(hub.stallTimeout());
    }

    private static boolean existsLocally(String given) {
        try {
            return Files.exists(Path.of(given.strip()));
        } catch (InvalidPathException e) {
            return false;
        }
    }
}
