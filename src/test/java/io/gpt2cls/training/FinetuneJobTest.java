package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.model.Gpt2Config;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

class FinetuneJobTest {

    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void aBaseModelWithoutPadTokenIdPadsWithEndOfTextAndTheCheckpointRecordsIt(@TempDir Path dir) throws Exception {
        NativeRuntime.init();
        Path tokenizer = Gpt2TokenizerBuilder.cached();
        // a base as the Hub ships GPT-2: no pad_token_id in config.json, no pad_token in tokenizer_config.json
        Path base = Files.createDirectories(dir.resolve("base"));
        Gpt2Config config = ModelPreset.TINY.config(List.of("LABEL_0", "LABEL_1"));
        config.pad_token_id = null;
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(config, root, 1)) {
            ModelCheckpoint.save(model, base);
        }
        Files.copy(tokenizer, base.resolve("tokenizer.json"));
        Files.writeString(base.resolve("tokenizer_config.json"), "{\"model_max_length\": 1024, \"tokenizer_class\": \"GPT2Tokenizer\"}");

        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            lines.add(JSON.writeValueAsString(Map.of("text", (i % 2 == 0 ? "sunny rain cloud " : "goal match team ") + i,
                    "label", i % 2 == 0 ? "weather" : "sports")));
        }
        Files.write(dir.resolve("train.jsonl"), lines);
        PrepareSpec prepare = new PrepareSpec();
        prepare.trainFiles = List.of(InputFile.local(dir.resolve("train.jsonl")));
        prepare.tokenizer = tokenizer;
        prepare.outputDir = dir.resolve("dataset");
        prepare.maxLength = 16;
        prepare.testFraction = 0.25;
        new DatasetPreparer().prepare(prepare);

        TrainingArguments args = new TrainingArguments();
        args.max_steps = 1;
        Path out = dir.resolve("model");
        FinetuneJob.run(new FinetuneJob.Spec(prepare.outputDir, base, null, null, Location.of(out), args, 1), new LocalStore());

        assertEquals(50256, JSON.readTree(out.resolve("config.json").toFile()).path("pad_token_id").asInt(), "eos_token_id");
        JsonNode tokenizerConfig = JSON.readTree(out.resolve("tokenizer_config.json").toFile());
        assertEquals("<|endoftext|>", tokenizerConfig.path("pad_token").asText());
        assertEquals(16, tokenizerConfig.path("model_max_length").asInt(), "the dataset's max_length, not the base's 1024");
        assertEquals("<|endoftext|>", JSON.readTree(out.resolve("special_tokens_map.json").toFile()).path("pad_token").asText());
    }
}
