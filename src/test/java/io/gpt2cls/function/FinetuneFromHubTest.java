package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.hub.FakeHub;
import io.gpt2cls.hub.TinyHubGpt2;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.S3ProxyTestResource;
import io.gpt2cls.storage.S3Settings;
import io.gpt2cls.storage.S3Store;
import io.gpt2cls.tokenizer.HubStyleTokenizers;
import io.gpt2cls.training.TrainingException;

/**
 * {@code "base_model": "hf-test-org/tiny-gpt2"} through the whole pipeline, on local directories and on
 * S3: a dataset prepared with the built-in GPT-2 tokenizer trains from the Hub's model (whose
 * tokenizer.json has other bytes), the base is fetched from the (loopback) Hub exactly once across two
 * runs and a resume, and the runs record the commit they started from.
 */
class FinetuneFromHubTest {

    static final String ID = "hf-test-org/tiny-gpt2";
    static final String COMMIT = "feedc0de0123456789abcdef0123456789abcdef";
    static final String BUCKET = "gpt2cls-hub-test";
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static FakeHub hub;
    static FakeHub.Repo repo;
    static final S3ProxyTestResource S3 = new S3ProxyTestResource();
    static S3Store s3Store;
    static ArtifactStore store;

    @BeforeAll
    static void start() throws Exception {
        hub = new FakeHub();
        repo = hub.add(new FakeHub.Repo(ID, COMMIT).withFilesOf(TinyHubGpt2.writeTo(dir.resolve("repo"))));
        S3.init(Map.of("buckets", BUCKET));
        S3.start();
        s3Store = S3Store.create(S3Settings.defaults().withCacheDir(Files.createTempDirectory("s3-cache-")));
        store = new RoutingStore(new LocalStore(), () -> s3Store, List.of());
    }

    @AfterAll
    static void stop() {
        hub.close();
        s3Store.close();
        S3.stop();
    }

    static TestConfig config() {
        TestConfig config = new TestConfig();
        config.hubEndpoint = hub.endpoint();
        return config;
    }

    static BaseModels baseModels(TestConfig config) {
        return BaseModels.of(store, config);
    }

    static FinetuneService finetune(TestConfig config) {
        FinetuneService service = new FinetuneService();
        service.store = store;
        service.config = config;
        service.baseModels = baseModels(config);
        return service;
    }

    static PrepareService prepare(TestConfig config) {
        PrepareService service = new PrepareService();
        service.store = store;
        service.baseModels = baseModels(config);
        return service;
    }

    static FinetuneResponse run(FinetuneService service, String request) throws Exception {
        return service.finetune(RequestParser.parse(request, FinetuneRequest.class));
    }

    @Test
    void fineTunesFromAHubModelOnLocalDirectories() throws Exception {
        fineTunesFromTheHubFetchingTheBaseOnce(Location.of(dir.resolve("local")));
    }

    @Test
    void fineTunesFromAHubModelOnS3() throws Exception {
        fineTunesFromTheHubFetchingTheBaseOnce(Location.parse("s3://" + BUCKET + "/runs"));
    }

    void fineTunesFromTheHubFetchingTheBaseOnce(Location root) throws Exception {
        int fetchedBefore = hub.downloads(repo, FakeHub.LFS);
        TestConfig config = config();
        Location dataset = root.resolve("prepared/messages");
        prepare(config).prepare(RequestParser.parse("{\"train\": \"" + TestModels.MESSAGES + "\", \"output\": \"" + dataset
                + "\", \"max_length\": 64, \"test_fraction\": 0.25}", PrepareRequest.class));
        String request = "{\"dataset\": \"" + dataset + "\", \"base_model\": \"" + ID + "\", \"training\": {\"max_steps\": 2,"
                + " \"save_strategy\": \"steps\", \"save_steps\": 1, \"eval_strategy\": \"no\", \"logging_steps\": 1}}";

        FinetuneResponse first = run(finetune(config), request);
        assertEquals("completed", first.status);
        Location output = root.resolve("models/messages");
        assertEquals(output.toString(), first.output);
        JsonNode state = JSON.readTree(Files.readString(store.fetchFile(output.resolve("trainer_state.json"))));
        assertEquals(ID + "@" + COMMIT, state.path("base_model_revision").asText());
        assertEquals("base_model " + ID, state.path("model_source").asText());
        JsonNode manifest = JSON.readTree(Files.readString(store.fetchFile(dataset.resolve("manifest.json"))));
        assertEquals(manifest.path("tokenizer").path("fingerprint").path("sha256").asText(), state.path("tokenizer_fingerprint").asText(),
                "the dataset's built-in tokenizer and the Hub model's are one tokenizer");
        assertTrue(store.exists(root.resolve("base-models/" + ID + "@" + COMMIT), "config.json"));

        // a resume: the run died publishing its final model (commit object gone first) and lost its last checkpoint;
        // the same request goes on from checkpoint-1 (a local set is its directory, which holds the checkpoints too)
        if (output.isLocal()) {
            Files.delete(output.path().resolve("config.json"));
        } else {
            store.deleteSet(output, "config.json");
        }
        store.deleteSet(output.resolve("checkpoint-2"), "config.json");
        FinetuneResponse resumed = run(finetune(config), request);
        assertEquals("completed", resumed.status);
        assertEquals(output.resolve("checkpoint-1").toString(), resumed.resumedFromCheckpoint);

        // a second run from the same base
        FinetuneResponse second = run(finetune(config), request.replace("\"training\"", "\"output\": \"" + root.resolve("models/again")
                + "\", \"training\""));
        assertEquals("completed", second.status);

        assertEquals(fetchedBefore + 1, hub.downloads(repo, FakeHub.LFS), "the base is fetched once across two runs and a resume");
        for (String file : List.of("config.json", "tokenizer.json")) {
            assertEquals(hub.downloads(repo, FakeHub.LFS), hub.downloads(repo, file), file);
        }
    }

    @Test
    void offlineARunUsesTheStoresCopyWithoutCallingOut() throws Exception {
        Location root = Location.of(dir.resolve("offline"));
        TestConfig online = config();
        Location dataset = root.resolve("prepared/messages");
        prepare(online).prepare(RequestParser.parse("{\"train\": \"" + TestModels.MESSAGES + "\", \"output\": \"" + dataset
                + "\", \"max_length\": 64, \"tokenizer\": \"" + ID + "\"}", PrepareRequest.class));
        JsonNode manifest = JSON.readTree(Files.readString(store.fetchFile(dataset.resolve("manifest.json"))));
        assertEquals(ID + "@" + COMMIT, manifest.path("tokenizer").path("file").asText(), "the dataset names the pinned tokenizer");
        int before = hub.total();
        TestConfig offline = config();
        offline.hubOffline = true;
        FinetuneResponse response = run(finetune(offline), "{\"dataset\": \"" + dataset + "\", \"base_model\": \"" + ID
                + "\", \"training\": {\"max_steps\": 1, \"eval_strategy\": \"no\"}}");
        assertEquals("completed", response.status);
        assertEquals(before, hub.total(), "HF_HUB_OFFLINE: not one request");
    }

    @Test
    void aDatasetTokenizedDifferentlyIsRefusedNamingWhatDiffers() throws Exception {
        Location root = Location.of(dir.resolve("different"));
        Path swapped = HubStyleTokenizers.gpt2WithSwappedMerges(dir.resolve("swapped"));
        Location dataset = root.resolve("prepared/messages");
        prepare(config()).prepare(RequestParser.parse("{\"train\": \"" + TestModels.MESSAGES + "\", \"output\": \"" + dataset
                + "\", \"max_length\": 64, \"tokenizer\": \"" + swapped + "\"}", PrepareRequest.class));
        TrainingException e = assertThrows(TrainingException.class, () -> run(finetune(config()), "{\"dataset\": \"" + dataset
                + "\", \"base_model\": \"" + ID + "\", \"training\": {\"max_steps\": 1}}"));
        assertTrue(e.getMessage().contains("they differ in merges") && e.getMessage().contains("base model " + ID), e.getMessage());
    }

    @Test
    void aManifestFromBeforeFingerprintsIsComparedByTheFilesBytes() throws Exception {
        Path dataset = dir.resolve("old-manifest");
        Files.createDirectories(dataset);
        try (var files = Files.list(TestModels.preparedDataset())) {
            for (Path file : files.toList()) {
                Files.copy(file, dataset.resolve(file.getFileName()));
            }
        }
        com.fasterxml.jackson.databind.node.ObjectNode manifest = (com.fasterxml.jackson.databind.node.ObjectNode) JSON.readTree(
                dataset.resolve("manifest.json").toFile());
        ((com.fasterxml.jackson.databind.node.ObjectNode) manifest.get("tokenizer")).remove("fingerprint");
        Files.writeString(dataset.resolve("manifest.json"), JSON.writeValueAsString(manifest));
        Path hubSpelling = HubStyleTokenizers.gpt2(dir.resolve("hub-spelling"));
        TrainingException e = assertThrows(TrainingException.class, () -> run(finetune(config()), "{\"dataset\": \"" + dataset
                + "\", \"tokenizer\": \"" + hubSpelling + "\", \"output\": \"" + dir.resolve("old-manifest-model")
                + "\", \"training\": {\"max_steps\": 1}}"));
        assertTrue(e.getMessage().contains("predates tokenizer fingerprints"), e.getMessage());
    }

    @Test
    void theDocumentedJobRequestNamesTheHubModelWhichIsKeptBesideTheDataset() throws Exception {
        FinetuneRequest request = RequestParser.parse(Files.readString(Path.of("events/finetune-from-hub.json")), FinetuneRequest.class);
        assertEquals("openai-community/gpt2", request.baseModel);
        Location output = FinetuneService.conventionalOutput(FinetuneService.datasetLocation(request.dataset));
        assertEquals(Location.parse("s3://gpt2cls-data-123456789012/base-models"),
                baseModels(config()).baseModelsFor(io.gpt2cls.hub.HubModelId.parse(request.baseModel).orElseThrow(), "base_model", output));
    }

    @Test
    void aHubModelNeedsAPlaceInTheStore() throws Exception {
        InvalidRequestException e = assertThrows(InvalidRequestException.class, () -> run(finetune(config()), "{\"dataset\": \""
                + TestModels.preparedDataset() + "\", \"base_model\": \"" + ID + "\", \"output\": \"" + dir.resolve("elsewhere")
                + "\", \"training\": {\"max_steps\": 1}}"));
        assertEquals("base_model", e.field());
        assertTrue(e.getMessage().contains("GPT2CLS_HUB_BASE_MODELS"), e.getMessage());
        assertFalse(Files.exists(dir.resolve("elsewhere/config.json")));
        assertNotEquals(0, e.getMessage().length());
    }
}
