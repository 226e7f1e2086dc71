package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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

import io.gpt2cls.tensors.Safetensors;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

class TokenizedDatasetTest {

    @TempDir
    static Path tokenizerDir;
    static Path tokenizerJson;

    @TempDir
    Path work;
    Path dataset;

    @BeforeAll
    static void buildTokenizer() throws Exception {
        tokenizerJson = Gpt2TokenizerBuilder.writeTo(tokenizerDir);
    }

    @BeforeEach
    void prepareDataset() throws Exception {
        StringBuilder rows = new StringBuilder();
        for (int i = 0; i < 6; i++) {
            rows.append(jsonLine("text " + i, i % 2 == 0 ? "a" : "b")).append('\n');
        }
        dataset = work.resolve("dataset");
        PrepareSpec spec = DatasetFixtures.spec(write(work, "train.jsonl", rows.toString()), tokenizerJson, dataset);
        spec.shardRows = 2;
        DatasetFixtures.prepare(spec);
    }

    @Test
    void opensWhatPrepareWrote() throws Exception {
        TokenizedDataset opened = TokenizedDataset.open(dataset);
        assertEquals(4, opened.split(Manifest.TRAIN).size());
        assertEquals(2, opened.split(Manifest.TEST).size());
    }

    @Test
    void aDirectoryWithoutManifestIsRefused() {
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(work));
        assertEquals("no manifest.json in " + work + "; it is not a prepared dataset (run prepare first)", error.getMessage());
    }

    @Test
    void anotherFormatIsRefused() throws Exception {
        Path manifest = dataset.resolve(Manifest.FILE);
        Files.writeString(manifest, Files.readString(manifest).replace(Manifest.FORMAT, "gpt2cls-tokenized/2"));
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().contains("has format 'gpt2cls-tokenized/2'; this reader reads 'gpt2cls-tokenized/1'"),
                error.getMessage());
    }

    @Test
    void aMissingShardIsNamed() throws Exception {
        Files.delete(dataset.resolve("train-00001.safetensors"));
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().startsWith("shard train-00001.safetensors listed in manifest.json is missing"),
                error.getMessage());
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
        Safetensors.write(shard, tensors, Map.of());
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertTrue(error.getMessage().contains("it has 1 labels but 3 offsets (expected labels + 1)"), error.getMessage());
    }

    @Test
    void shardRowsThatDoNotAddUpToTheManifestAreRefused() throws Exception {
        Path manifest = dataset.resolve(Manifest.FILE);
        Files.writeString(manifest, Files.readString(manifest)
                .replace("\"shards\" : [ \"train-00000.safetensors\", \"train-00001.safetensors\" ]",
                        "\"shards\" : [ \"train-00000.safetensors\" ]"));
        DatasetException error = assertThrows(DatasetException.class, () -> TokenizedDataset.open(dataset));
        assertEquals("the 'train' shards in " + dataset + " hold 2 rows but manifest.json says 4; prepare the dataset again",
                error.getMessage());
    }
}
