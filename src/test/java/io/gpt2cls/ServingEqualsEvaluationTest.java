package io.gpt2cls;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.training.Evaluator;
import io.gpt2cls.training.FinetuneJob;
import io.gpt2cls.training.Trainer;
import io.gpt2cls.training.TrainingArguments;

/**
 * prepare -> finetune -> classify on the published model: serving the raw test texts gives, row by
 * row, the predictions and probabilities that finetune's evaluation reported, so its accuracy is the
 * accuracy users get. Texts run far past max_length, so a server that cut them anywhere else (at
 * n_positions, or on the other side) would see other tokens and fail this.
 */
class ServingEqualsEvaluationTest {

    static final ObjectMapper JSON = new ObjectMapper();
    static final int MAX_LENGTH = 24;
    static final Map<String, List<String>> CLASS_WORDS = Map.of(
            "sports", List.of("goal", "match", "team", "striker", "league", "coach", "referee", "stadium", "penalty"),
            "weather", List.of("rain", "cloud", "storm", "sunny", "forecast", "wind", "snow", "humid", "thunder"),
            "cooking", List.of("oven", "recipe", "garlic", "simmer", "butter", "flour", "bake", "onion", "sauce"));
    static final List<String> FILLER = List.of("the", "a", "of", "and", "today", "we", "it", "was", "very", "some", "more",
            "about", "then", "after", "all", "people", "said");

    /** One JSON line per row: class words among filler, 4 to 70 words, so many rows run past MAX_LENGTH tokens. */
    static List<String> rows(int count, long seed, List<String> texts, List<String> labels) throws Exception {
        Random random = new Random(seed);
        List<String> classes = new ArrayList<>(new TreeSet<>(CLASS_WORDS.keySet()));
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            String label = classes.get(i % classes.size());
            int words = 4 + random.nextInt(67);
            StringBuilder text = new StringBuilder();
            for (int w = 0; w < words; w++) {
                List<String> pool = random.nextDouble() < 0.3 ? CLASS_WORDS.get(label) : FILLER;
                text.append(w == 0 ? "" : " ").append(pool.get(random.nextInt(pool.size())));
            }
            texts.add(text.toString());
            labels.add(label);
            lines.add(JSON.writeValueAsString(Map.of("text", text.toString(), "label", label)));
        }
        return lines;
    }

    @Test
    void classifyingTheTestFileGivesTheEvaluationsPredictionsProbabilitiesAndAccuracy(@TempDir Path dir) throws Exception {
        List<String> testTexts = new ArrayList<>();
        List<String> testLabels = new ArrayList<>();
        Files.write(dir.resolve("train.jsonl"), rows(120, 1, new ArrayList<>(), new ArrayList<>()));
        Files.write(dir.resolve("test.jsonl"), rows(36, 2, testTexts, testLabels));
        Path tokenizer = Gpt2TokenizerBuilder.cached();

        PrepareSpec prepare = new PrepareSpec();
        prepare.trainFiles = List.of(InputFile.local(dir.resolve("train.jsonl")));
        prepare.testFiles = List.of(InputFile.local(dir.resolve("test.jsonl")));
        prepare.tokenizer = tokenizer;
        prepare.outputDir = dir.resolve("dataset");
        prepare.maxLength = MAX_LENGTH;
        prepare.truncationSide = "left";
        new DatasetPreparer().prepare(prepare);

        TrainingArguments args = new TrainingArguments();
        args.learning_rate = 1e-3;
        args.per_device_train_batch_size = 12;
        args.num_train_epochs = 3; // 120 rows / 12 = 10 updates per epoch, evaluated and saved after each
        args.warmup_ratio = 0.1;
        args.logging_steps = 10;
        args.load_best_model_at_end = true;
        args.metric_for_best_model = "accuracy";
        Path model = dir.resolve("model");
        Trainer.Result result = FinetuneJob.run(new FinetuneJob.Spec(prepare.outputDir, null, "tiny", tokenizer,
                Location.of(model), args, 3), new LocalStore()).result();
        Evaluator.Evaluation evaluation = result.finalEvaluation();
        assertEquals(testTexts.size(), evaluation.probabilities().length);

        List<TextClassifier.Prediction> served;
        List<String> labels;
        try (TextClassifier classifier = TextClassifier.load(model)) {
            served = classifier.classify(testTexts);
        }
        labels = List.copyOf(served.get(0).probabilities().keySet());
        List<int[]> tokens;
        try (TextTokenizer textTokenizer = TextTokenizer.load(tokenizer)) {
            tokens = textTokenizer.encodeAll(testTexts);
        }
        int correct = 0;
        int truncated = 0;
        for (int row = 0; row < testTexts.size(); row++) {
            TextClassifier.Prediction prediction = served.get(row);
            float[] servedProbabilities = new float[labels.size()];
            for (int l = 0; l < labels.size(); l++) {
                servedProbabilities[l] = prediction.probabilities().get(labels.get(l)).floatValue();
            }
            assertArrayEquals(evaluation.probabilities()[row], servedProbabilities, 1e-5f, "row " + row);
            assertEquals(labels.get(evaluation.predicted(row)), prediction.label(), "row " + row);
            assertEquals(Math.min(tokens.get(row).length, MAX_LENGTH), prediction.tokens(), "row " + row);
            assertEquals(tokens.get(row).length > MAX_LENGTH, prediction.truncated(), "row " + row);
            correct += prediction.label().equals(testLabels.get(row)) ? 1 : 0;
            truncated += prediction.truncated() ? 1 : 0;
        }
        assertTrue(truncated >= testTexts.size() / 2, "the test needs texts past max_length; " + truncated + " are");
        assertEquals(result.finalMetrics().accuracy(), (double) correct / testTexts.size());

        JsonNode tokenizerConfig = JSON.readTree(model.resolve("tokenizer_config.json").toFile());
        assertEquals(MAX_LENGTH, tokenizerConfig.path("model_max_length").asInt());
        assertEquals("left", tokenizerConfig.path("truncation_side").asText());
        // The keys GPT2TokenizerFast.save_pretrained writes (transformers 4.46), plus the two sides it
        // writes when they were set: truncation_side and padding_side.
        Set<String> keys = new TreeSet<>();
        tokenizerConfig.fieldNames().forEachRemaining(keys::add);
        assertEquals(new TreeSet<>(List.of("add_prefix_space", "added_tokens_decoder", "bos_token", "clean_up_tokenization_spaces",
                "eos_token", "model_max_length", "pad_token", "padding_side", "tokenizer_class", "truncation_side", "unk_token")), keys);
        assertEquals("<|endoftext|>", tokenizerConfig.path("pad_token").asText());
        assertEquals(50256, JSON.readTree(model.resolve("config.json").toFile()).path("pad_token_id").asInt());
    }
}
