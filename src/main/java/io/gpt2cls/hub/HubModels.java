package io.gpt2cls.hub;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.model.HubRevision;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TokenizerFiles;

/**
 * Hub models pinned and cached in the store: {@code openai-community/gpt2@main} is resolved to a commit
 * and its files are published once, as one committed set, at
 * {@code <base-models>/openai-community/gpt2@<commit>/} (local or S3); every later run, retry and Batch
 * attempt that resolves to that commit reads the set, and nothing is downloaded again.
 *
 * <p>Resolving a branch or tag asks the Hub for its commit (one small API request). A full commit hash
 * that is already in the store needs no request. Offline ({@code HF_HUB_OFFLINE=1}), nothing is asked:
 * a commit is looked up as it is, a branch or tag is the copy last fetched for that name (by the
 * {@code fetched_at} of its {@link HubRevision} record).
 *
 * <p>Taken from the repository: {@code config.json} (whose {@code model_type} must be {@code gpt2}),
 * {@code model.safetensors} (pickle weights are refused), {@code tokenizer.json}, and
 * {@code tokenizer_config.json} and {@code special_tokens_map.json} when it has them; each file's size and,
 * for the weights, SHA-256 are checked against what the Hub states before anything is published.
 */
public final class HubModels {

    private static final Logger LOG = Logger.getLogger(HubModels.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> REQUIRED = List.of(ModelCheckpoint.CONFIG_FILE, ModelCheckpoint.WEIGHTS_FILE,
            TextTokenizer.TOKENIZER_FILE);
    private static final List<String> OPTIONAL = List.of(TokenizerFiles.CONFIG_FILE, TokenizerFiles.SPECIAL_TOKENS_FILE);
    private static final String GPT2 = "gpt2";

    private final ArtifactStore store;
    private final HubSettings settings;
    private final HubClient client;

    public HubModels(ArtifactStore store, HubSettings settings) {
        this.store = store;
        this.settings = settings;
        this.client = settings.offline() ? null : new HubClient(settings);
    }

    /**
     * A pinned copy in the store.
     *
     * @param location the committed set
     * @param pinned {@code id@commit}, the id as the Hub names it
     */
    public record Copy(Location location, String pinned) {}

    /** The committed set holding {@code model} under {@code baseModels}, fetched from the Hub first if the store lacks it. */
    public Copy resolve(HubModelId model, Location baseModels) throws IOException {
        if (model.isCommit() && store.exists(copy(baseModels, model.id(), model.revision()).location(), ModelCheckpoint.CONFIG_FILE)) {
            return copy(baseModels, model.id(), model.revision());
        }
        if (settings.offline()) {
            return cached(model, baseModels);
        }
        HubClient.Revision revision = client.revision(model);
        Copy copy = copy(baseModels, revision.id(), revision.commit());
        if (store.exists(copy.location(), ModelCheckpoint.CONFIG_FILE)) {
            LOG.infof("%s is %s, already in the store at %s", model, copy.pinned(), copy.location());
            return copy;
        }
        // another run (a second job, a retry) may be fetching the same commit: its copy is waited for
        publish(model, revision, copy.location());
        return copy;
    }

    /** How long a run waits for another run's fetch of the same pinned copy: a GPT-2 medium download, with room. */
    private static final Duration OTHER_FETCH_WAIT = Duration.ofMinutes(15);

    /** {@code <base-models>/<id>@<commit>}: the id's namespace is a directory, as on the Hub. */
    static Copy copy(Location baseModels, String id, String commit) {
        return new Copy(baseModels.resolve(id + "@" + commit), id + "@" + commit);
    }

    private void publish(HubModelId model, HubClient.Revision revision, Location set) throws IOException {
        String pinned = revision.id() + "@" + revision.commit();
        List<HubClient.RepoFile> files = filesToFetch(revision, pinned);
        long bytes = files.stream().mapToLong(HubClient.RepoFile::size).sum();
        boolean fetched = store.publishOnce(set, ModelCheckpoint.CONFIG_FILE, "fetch of " + pinned, OTHER_FETCH_WAIT, dir -> {
            LOG.infof("fetching %s (%s) from %s: %d files, %,d bytes, into %s", model, pinned, settings.endpoint(), files.size(), bytes, set);
            for (HubClient.RepoFile file : files) {
                Path target = dir.resolve(file.name());
                client.download(revision, file, target);
                if (file.name().equals(ModelCheckpoint.CONFIG_FILE)) {
                    requireGpt2(target, pinned); // before the weights: a wrong architecture costs one small file
                }
            }
            new HubRevision(revision.id(), model.revision(), revision.commit(), settings.endpoint().toString(),
                    Instant.now().truncatedTo(ChronoUnit.SECONDS).toString()).writeTo(dir);
        });
        if (fetched) {
            LOG.infof("published %s at %s (%,d bytes checked against the Hub's sizes and SHA-256)", pinned, set, bytes);
        } else {
            LOG.infof("%s was published at %s by another run meanwhile; using it", pinned, set);
        }
    }

    /** The files to take, config.json first; refuses a repository without safetensors weights or a tokenizer. */
    private static List<HubClient.RepoFile> filesToFetch(HubClient.Revision revision, String pinned) {
        if (revision.file(ModelCheckpoint.WEIGHTS_FILE).isEmpty()) {
            throw new HubException(missingWeights(revision, pinned));
        }
        List<HubClient.RepoFile> files = new ArrayList<>();
        for (String name : REQUIRED) {
            files.add(revision.file(name).orElseThrow(() -> new HubException(pinned + " has no " + name
                    + "; a GPT-2 model to fine-tune needs " + REQUIRED + " (files there: " + names(revision) + ")")));
        }
        for (String name : OPTIONAL) {
            revision.file(name).ifPresent(files::add);
        }
        return files;
    }

    private static String missingWeights(HubClient.Revision revision, String pinned) {
        if (revision.file(ModelCheckpoint.WEIGHTS_FILE + ".index.json").isPresent()) {
            return pinned + " holds sharded safetensors (model.safetensors.index.json); GPT-2 sizes fit one file: re-save it"
                    + " with save_pretrained(dir, max_shard_size=\"10GB\") and fine-tune from that directory";
        }
        List<String> pickles = revision.files().stream().map(HubClient.RepoFile::name).filter(ModelCheckpoint::isPickle).toList();
        if (!pickles.isEmpty()) {
            return pinned + " has no model.safetensors, only " + pickles + ": pickle checkpoints are refused because loading"
                    + " them can run arbitrary code. Convert once in Python: " + ModelCheckpoint.CONVERT_PICKLE
                    + ", and fine-tune from that directory (or upload it to the Hub)";
        }
        return pinned + " has no model.safetensors (files there: " + names(revision) + ")";
    }

    private static List<String> names(HubClient.Revision revision) {
        return revision.files().stream().map(HubClient.RepoFile::name).toList();
    }

    private static void requireGpt2(Path config, String pinned) throws IOException {
        JsonNode node;
        try {
            node = JSON.readTree(config.toFile());
        } catch (IOException e) {
            throw new HubException(pinned + "'s config.json is not JSON (" + e.getMessage() + ")");
        }
        String type = node.path("model_type").asText("");
        if (!type.equals(GPT2)) {
            throw new HubException(pinned + " is " + (type.isEmpty() ? "a model without a model_type" : "a '" + type + "' model")
                    + " (config.json model_type); only GPT-2 models (model_type 'gpt2': openai-community/gpt2, gpt2-medium,"
                    + " distilbert/distilgpt2, ...) can be fine-tuned here");
        }
    }

    /** Offline: the copy the store has, or an error saying how to get one. */
    private Copy cached(HubModelId model, Location baseModels) throws IOException {
        Location dir = baseModels.resolve(model.id()).parent();
        String prefix = model.name() + "@";
        List<String> copies = store.listSets(dir, ModelCheckpoint.CONFIG_FILE).stream().filter(n -> n.startsWith(prefix)).toList();
        List<HubRevision> matching = new ArrayList<>();
        for (String name : copies) {
            String commit = name.substring(prefix.length());
            if (commit.startsWith(model.revision()) && model.revision().length() >= 7) {
                return copy(baseModels, model.id(), commit);
            }
            try {
                HubRevision.readFrom(store.fetchFile(dir.resolve(name).resolve(HubRevision.FILE)).getParent())
                        .filter(r -> r.revision().equals(model.revision()))
                        .ifPresent(matching::add);
            } catch (ArtifactNotFoundException notFromTheHub) {
                // a set copied in by hand: it is found by its commit only
            }
        }
        HubRevision newest = matching.stream().max(Comparator.comparing(HubRevision::fetchedAt)).orElseThrow(() -> new HubException(
                "HF_HUB_OFFLINE is set and the store has no copy of " + model + " under " + baseModels
                        + (copies.isEmpty() ? "" : " (it has " + copies + ")") + ": run once with network access, or run"
                        + " 'hub-import " + model + " --to " + baseModels + "' on a machine that has it, or unset HF_HUB_OFFLINE"));
        Copy copy = copy(baseModels, newest.id(), newest.commit());
        LOG.infof("HF_HUB_OFFLINE: %s is %s, as last fetched (%s), from %s", model, newest.pinned(), newest.fetchedAt(), copy.location());
        return copy;
    }
}
