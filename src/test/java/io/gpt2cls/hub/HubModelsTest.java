package io.gpt2cls.hub;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.model.HubRevision;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;

/** Hub models fetched through the Hub's HTTP endpoints (played by {@link FakeHub}), verified, and kept in the store once. */
class HubModelsTest {

    static final String ID = "hf-test-org/tiny-gpt2";
    static final String COMMIT = "0123456789abcdef0123456789abcdef01234567";

    @TempDir
    static Path repoFiles;
    @TempDir
    Path root;

    FakeHub hub;
    FakeHub.Repo repo;
    LocalStore store = new LocalStore();
    Location baseModels;

    @BeforeAll
    static void writeTheTinyModel() throws Exception {
        TinyHubGpt2.writeTo(repoFiles);
    }

    @BeforeEach
    void startTheHub() throws Exception {
        hub = new FakeHub();
        repo = hub.add(new FakeHub.Repo(ID, COMMIT).withFilesOf(repoFiles));
        baseModels = Location.of(root.resolve("base-models"));
    }

    @AfterEach
    void stopTheHub() {
        hub.close();
    }

    HubModels models(Optional<String> token, boolean offline) {
        return new HubModels(store, HubSettings.online(hub.endpoint(), token).withOffline(offline));
    }

    HubModels.Copy resolve(String model) throws Exception {
        return models(Optional.empty(), false).resolve(HubModelId.parse(model).orElseThrow(), baseModels);
    }

    @Test
    void aModelIsPinnedVerifiedAndPublishedOnceThenReadFromTheStore() throws Exception {
        HubModels.Copy copy = resolve(ID);
        assertEquals(ID + "@" + COMMIT, copy.pinned());
        assertEquals(baseModels.resolve(ID + "@" + COMMIT), copy.location());
        Path set = copy.location().path();
        for (String file : List.of("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json")) {
            assertArrayEquals(repo.files.get(file), Files.readAllBytes(set.resolve(file)), file);
        }
        HubRevision recorded = HubRevision.readFrom(set).orElseThrow();
        assertEquals(List.of(ID, "main", COMMIT, hub.endpoint().toString()),
                List.of(recorded.id(), recorded.revision(), recorded.commit(), recorded.endpoint()));
        assertEquals(1, hub.downloads(repo, FakeHub.LFS));

        assertEquals(copy, resolve(ID), "a second run: the branch is asked for, nothing is downloaded");
        assertEquals(2, hub.count("/api/models/" + ID + "/revision/main"));
        int before = hub.total();
        assertEquals(copy, resolve(ID + "@" + COMMIT), "a commit already in the store needs no request at all");
        assertEquals(before, hub.total());
        assertEquals(1, hub.downloads(repo, FakeHub.LFS));
        assertEquals(1, hub.downloads(repo, "config.json"));
    }

    @Test
    void aLegacyIdFollowsTheHubsRedirectAndIsKeptUnderTheCanonicalId() throws Exception {
        hub.redirect("tiny-gpt2", ID);
        HubModels.Copy copy = resolve("tiny-gpt2");
        assertEquals(ID + "@" + COMMIT, copy.pinned());
        assertEquals(baseModels.resolve(ID + "@" + COMMIT), copy.location());
    }

    @Test
    void anUnknownRepositoryIsNotFound() {
        HubNotFoundException e = assertThrows(HubNotFoundException.class, () -> resolve("hf-test-org/no-such-model"));
        assertTrue(e.getMessage().contains("no model 'hf-test-org/no-such-model'") && e.getMessage().contains("HF_TOKEN"), e.getMessage());
    }

    @Test
    void anUnknownRevisionIsNotFound() {
        HubNotFoundException e = assertThrows(HubNotFoundException.class, () -> resolve(ID + "@v9"));
        assertTrue(e.getMessage().contains("no revision 'v9'"), e.getMessage());
    }

    @Test
    void aGatedModelWithoutATokenNamesHfTokenAndWithOneIsFetchedWithoutSendingTheTokenToTheCdn() throws Exception {
        repo.gated = true;
        HubException e = assertThrows(HubException.class, () -> resolve(ID));
        assertTrue(e.getMessage().contains("gated") && e.getMessage().contains("set HF_TOKEN")
                && e.getMessage().contains("HF_TOKEN is not set"), e.getMessage());
        HubModels.Copy copy = models(Optional.of(FakeHub.TOKEN), false).resolve(HubModelId.parse(ID).orElseThrow(), baseModels);
        assertTrue(Files.exists(copy.location().path().resolve("model.safetensors")));
        assertEquals(List.of(), hub.cdnAuthorizations, "the token stays with the Hub");
    }

    @Test
    void weightsWithAnotherChecksumThanTheHubStatesArePublishedNowhere() {
        repo.statedSha256 = "ab".repeat(32);
        HubException e = assertThrows(HubException.class, () -> resolve(ID));
        assertTrue(e.getMessage().contains("SHA-256") && e.getMessage().contains("ab".repeat(32)), e.getMessage());
        assertFalse(Files.exists(baseModels.path().resolve(ID + "@" + COMMIT + "/config.json")));
    }

    @Test
    void weightsCutShortArePublishedNowhere() {
        repo.cutAfter = 1000;
        HubException e = assertThrows(HubException.class, () -> resolve(ID));
        assertTrue(e.getMessage().contains("cut short"), e.getMessage());
        assertFalse(Files.exists(baseModels.path().resolve(ID + "@" + COMMIT + "/config.json")));
    }

    @Test
    void anUnreachableHubNamesTheEndpointAndOfflineMode() {
        HubModels unreachable = new HubModels(store, HubSettings.online(java.net.URI.create("http://127.0.0.1:1"), Optional.empty()));
        HubException e = assertThrows(HubException.class, () -> unreachable.resolve(HubModelId.parse(ID).orElseThrow(), baseModels));
        assertTrue(e.getMessage().contains("cannot reach 127.0.0.1") && e.getMessage().contains("HF_HUB_OFFLINE=1"), e.getMessage());
    }

    @Test
    void offlineWithNothingInTheStoreSaysHowToGetIt() {
        HubException e = assertThrows(HubException.class,
                () -> models(Optional.empty(), true).resolve(HubModelId.parse(ID).orElseThrow(), baseModels));
        assertTrue(e.getMessage().contains("HF_HUB_OFFLINE") && e.getMessage().contains("hub-import " + ID), e.getMessage());
        assertEquals(0, hub.total(), "offline never calls out");
    }

    @Test
    void offlineABranchIsTheCopyLastFetchedForIt() throws Exception {
        HubModels.Copy fetched = resolve(ID);
        int before = hub.total();
        HubModels offline = models(Optional.empty(), true);
        assertEquals(fetched, offline.resolve(HubModelId.parse(ID).orElseThrow(), baseModels));
        assertEquals(fetched, offline.resolve(HubModelId.parse(ID + "@" + COMMIT.substring(0, 10)).orElseThrow(), baseModels));
        assertThrows(HubException.class, () -> offline.resolve(HubModelId.parse(ID + "@v2").orElseThrow(), baseModels));
        assertEquals(before, hub.total());
    }

    @Test
    void aModelThatIsNotGpt2IsRefusedBeforeItsWeightsAreDownloaded() throws Exception {
        FakeHub.Repo llama = hub.add(new FakeHub.Repo("hf-test-org/tiny-llama", COMMIT).withFilesOf(repoFiles));
        llama.files.put("config.json", "{\"model_type\": \"llama\", \"architectures\": [\"LlamaForCausalLM\"]}".getBytes(StandardCharsets.UTF_8));
        HubException e = assertThrows(HubException.class, () -> resolve("hf-test-org/tiny-llama"));
        assertTrue(e.getMessage().contains("'llama' model") && e.getMessage().contains("model_type 'gpt2'"), e.getMessage());
        assertEquals(0, hub.downloads(llama, FakeHub.LFS));
    }

    @Test
    void aModelWithOnlyPickleWeightsIsRefusedWithTheConversion() throws Exception {
        FakeHub.Repo pickled = hub.add(new FakeHub.Repo("hf-test-org/pickled-gpt2", COMMIT).withFilesOf(repoFiles));
        pickled.files.put("pytorch_model.bin", pickled.files.remove("model.safetensors"));
        HubException e = assertThrows(HubException.class, () -> resolve("hf-test-org/pickled-gpt2"));
        assertTrue(e.getMessage().contains("only [pytorch_model.bin]") && e.getMessage().contains("safe_serialization=True"), e.getMessage());
        assertEquals(0, hub.total() - hub.count("/api/models/hf-test-org/pickled-gpt2/revision/main"), "nothing downloaded");
    }

    @Test
    void hubIdsAreToldApartFromLocations() {
        assertEquals(Optional.of(new HubModelId("openai-community/gpt2", "main")), HubModelId.parse("openai-community/gpt2"));
        assertEquals(Optional.of(new HubModelId("gpt2", COMMIT)), HubModelId.parse("gpt2@" + COMMIT));
        assertEquals(Optional.of(new HubModelId("distilbert/distilgpt2", "v1.0")), HubModelId.parse(" distilbert/distilgpt2@v1.0 "));
        for (String location : List.of("s3://bucket/base-models/gpt2", "runs/x/model", "/abs/gpt2", "./gpt2", "../gpt2",
                "file:///tmp/gpt2", "tokenizer.json", "dir/tokenizer.json", "C:\\models\\gpt2")) {
            assertEquals(Optional.empty(), HubModelId.parse(location), location);
        }
    }
}
