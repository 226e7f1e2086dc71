package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import static io.gpt2cls.dataset.DatasetFixtures.JSON;
import static io.gpt2cls.dataset.DatasetFixtures.jsonLine;
import static io.gpt2cls.dataset.DatasetFixtures.write;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import io.gpt2cls.tensors.Safetensors;
import io.gpt2cls.function.TestModels;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TextTokenizer;

class TokenizedDatasetTest {

    static Path tokenizerJson;

    @TempDir
    Path work;
    Path dataset;

    @BeforeAll
    static void buildTokenizer() throws Exception {
        tokenizerJson = TestModels.tokenizer(); // built once per JVM, shared read-only
    }

    /** Six rows of two tokens; four go to train, two shards of two rows each. */
    @BeforeEach
    void prepareDataset() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            rows.append(jsonLine("text " + i, i % 2 == 0 ? "a" : "b")).append('\n');
        }
        dataset = work.resolve("dataset");
        PrepareSpec spec = DatasetFixtures.spec(write(work, "train.jsonl", rows.toString()), tokenizerJson, dataset);
        spec.testFraction = 1.0 / 3;
        spec.maxLength = 2;
        spec.maxShardBytes = Shards.bytesFor(2, 2 * 2); // two rows of two tokens per shard
        DatasetFixtures.prepare(spec);
    }

    private ObjectNode manifestJson() throws Exception {
        return (ObjectNode) JSON.readTree(dataset.resolve(Manifest.FILE).toFile());
    }

    private void writeManifest(ObjectNode manifest) throws Exception {
        JSON.writeValue(dataset.resolve(Manifest.FILE).toFile(), manifest);
    }

    private ObjectNode trainShard(ObjectNode manifest, int index) {
        return (ObjectNode) manifest.path("splits").path("train").path("shards").get(index);
    }

    /** Rewrites a shard's tensors and records its new size and checksum, as a buggy writer would have. */
    private void rewriteShard(String name, Map<String, Safetensors.Tensor> tensors) throws Exception {
        Path shard = dataset.resolve(name);
        Safetensors.write(shard, tensors, Map.of());
        ObjectNode manifest = manifestJson();
        for (var entry : manifest.path("splits").path("train").path("shards")) {
            if (entry.path("file").asText().equals(name)) {
                ((ObjectNode) entry).put("bytes", Files.size(shard)).put("sha256", Shards.sha256(shard));
            }
        }
        writeManifest(manifest);
    }

    @Test
    void opensWhatPrepareWroteAndReadsRowsAcrossShards() throws Exception {
        TokenizedDataset opened = TokenizedDataset.open(dataset);
        TokenizedDataset.Split train = opened.split(Manifest.TRAIN);
        assertEquals(4, train.size());
        assertEquals(2, opened.split(Manifest.TEST).size());
        assertEquals(2, opened.manifest().splits().get(Manifest.TRAIN).shards().size());
        try (TextTokenizer tokenizer = TextTokenizer.load(tokenizerJson)) {
            for (int row = 0; row < train.size(); row++) {
                String text = tokenizer.decode(train.tokens(row));
                assertTrue(text.matches("text [0-5]"), text);
                int number = text.charAt(5) - '0';
                assertEquals(number % 2, train.label(row), text);
                assertEquals(2, train.length(row));
            }
        }
        assertThrows(IndexOutOfBoundsException.class, () -> train.tokens(4));
    }

    @Test
    void aDirectoryWithoutManifestIsRefused() {
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(work));
        assertEquals("no manifest.json in " + work + "; it is not a prepared dataset (run prepare first)", error.getMessage());
    }

    @Test
    void aFormatOneDatasetIsRefusedWithPrepareAgain() throws Exception {
        writeManifest(manifestJson().put("format", "gpt2cls-tokenized/1"));
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().endsWith("has format 'gpt2cls-tokenized/1'; this reader reads 'gpt2cls-tokenized/2':"
                + " prepare the dataset again with this version"), error.getMessage());
    }

    @Test
    void aManifestThatDoesNotDescribeADatasetIsRefused() throws Exception {
        ObjectNode manifest = manifestJson();
        ((ObjectNode) manifest.path("splits").path("train")).put("shards", "train-00000.safetensors");
        writeManifest(manifest);
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().contains("does not describe a dataset"), error.getMessage());
    }

    @Test
    void shardNamesOutsideTheSetAreRefusedWhenTheManifestIsRead() throws Exception {
        // a shard outside the set that matches the manifest would otherwise be read, so place one there
        Files.copy(dataset.resolve("train-00001.safetensors"), work.resolve("outside.safetensors"));
        for (String name : new String[] {"../outside.safetensors", work.resolve("outside.safetensors").toString(),
                "sub/train-00001.safetensors", "..", "C:\\train.safetensors", ""}) {
            ObjectNode manifest = manifestJson();
            trainShard(manifest, 1).put("file", name);
            writeManifest(manifest);
            DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset), name);
            assertTrue(error.getMessage().contains("names a shard of split 'train' '" + name + "', which is not a plain file"
                    + " name inside the dataset"), error.getMessage());
        }
        ObjectNode manifest = manifestJson();
        trainShard(manifest, 1).put("file", "train-00001.safetensors");
        ((ObjectNode) manifest.path("rejected")).put("report", "../rejected.jsonl");
        writeManifest(manifest);
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().contains("the rejected rows report '../rejected.jsonl'"), error.getMessage());
    }

    @Test
    void aMissingShardIsNamed() throws Exception {
        Files.delete(dataset.resolve("train-00001.safetensors"));
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().startsWith("shard train-00001.safetensors listed in manifest.json is missing"),
                error.getMessage());
    }

    @Test
    void aShardWhoseBytesChangedIsNamedAsCorrupt() throws Exception {
        Path shard = dataset.resolve("train-00001.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        bytes[bytes.length - 1] ^= 1; // one bit of the last label
        Files.write(shard, bytes);
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertEquals("shard " + shard + " is corrupt: its SHA-256 differs from the one in manifest.json, so its bytes"
                + " changed after prepare wrote them; prepare the dataset again", error.getMessage());
    }

    @Test
    void aShortenedShardIsNamedAsCorrupt() throws Exception {
        Path shard = dataset.resolve("train-00000.safetensors");
        byte[] bytes = Files.readAllBytes(shard);
        Files.write(shard, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().startsWith("shard " + shard + " is corrupt: it has " + (bytes.length - 4)
                + " bytes but manifest.json says " + bytes.length), error.getMessage());
    }

    @Test
    void anAbsentSplitIsNamedWithTheSplitsThatExist() throws Exception {
        DatasetException error = assertThrows(DatasetException.class,
                () -> TokenizedDataset.open(dataset).split("validation"));
        assertEquals("the dataset has no 'validation' split; it has: train, test", error.getMessage());
    }

    @Test
    void shardsWhoseOffsetsAndLabelsDisagreeAreRefused() throws Exception {
        Path shard = dataset.resolve("train-00000.safetensors");
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(Safetensors.read(shard));
        int[] inputIds = tensors.get(Shards.INPUT_IDS).toInts();
        long[] offsets = tensors.get(Shards.OFFSETS).toLongs();
        tensors.put(Shards.LABELS, Safetensors.Tensor.ofInts(new int[] {0}, 1));
        tensors.put(Shards.INPUT_IDS, Safetensors.Tensor.ofInts(inputIds, inputIds.length));
        tensors.put(Shards.OFFSETS, Safetensors.Tensor.ofLongs(offsets, offsets.length));
        rewriteShard("train-00000.safetensors", tensors);
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().contains("it has 1 labels but 3 offsets (expected labels + 1)"), error.getMessage());
    }

    @Test
    void shardRowsThatDoNotAddUpToTheManifestAreRefused() throws Exception {
        ObjectNode manifest = manifestJson();
        ((ArrayNode) manifest.path("splits").path("train").path("shards")).remove(1);
        writeManifest(manifest);
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertEquals("the 'train' shards in " + dataset + " hold 2 rows but manifest.json says 4; prepare the dataset again",
                error.getMessage());
    }

    @Test
    void aTokenIdBeyondTheModelsVocabularyNamesTheShardAndRow() throws Exception {
        TokenizedDataset opened = TokenizedDataset.open(dataset);
        opened.requireTokenIdsBelow(Gpt2TokenizerBuilder.END_OF_TEXT_ID + 1); // GPT-2's vocabulary: fine

        Path shard = dataset.resolve("train-00001.safetensors");
        Map<String, Safetensors.Tensor> tensors = new LinkedHashMap<>(Safetensors.read(shard));
        int[] inputIds = tensors.get(Shards.INPUT_IDS).toInts();
        inputIds[3] = 60_000; // row 1, second token
        tensors.put(Shards.INPUT_IDS, Safetensors.Tensor.ofInts(inputIds, inputIds.length));
        tensors.put(Shards.OFFSETS, Safetensors.Tensor.ofLongs(tensors.get(Shards.OFFSETS).toLongs(), 3));
        tensors.put(Shards.LABELS, Safetensors.Tensor.ofInts(tensors.get(Shards.LABELS).toInts(), 2));
        rewriteShard("train-00001.safetensors", tensors);
        ObjectNode manifest = manifestJson();
        trainShard(manifest, 1).put("max_token_id", 60_000);
        writeManifest(manifest);

        TokenizedDataset tampered = TokenizedDataset.open(dataset);
        DatasetException error = assertThrows(DatasetException.class, () -> tampered.requireTokenIdsBelow(50_257));
        assertEquals("shard train-00001.safetensors in " + dataset + " has token id 60000 in row 1 (row 3 of the 'train'"
                + " split), but the model's vocabulary has 50257 ids (0..50256): the dataset was tokenized for another"
                + " model; prepare it again with the model's tokenizer", error.getMessage());
        assertArrayEquals(new int[] {inputIds[2], 60_000}, tampered.split(Manifest.TRAIN).tokens(3));
    }
}
