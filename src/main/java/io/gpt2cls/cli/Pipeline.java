package io.gpt2cls.cli;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.dataset.TokenizedDataset;
import io.gpt2cls.function.FinetuneRequest;
import io.gpt2cls.function.FinetuneResponse;
import io.gpt2cls.function.AppConfig;
import io.gpt2cls.function.FinetuneService;
import io.gpt2cls.function.PrepareRequest;
import io.gpt2cls.function.PrepareResponse;
import io.gpt2cls.function.PrepareService;
import io.gpt2cls.inference.TextClassifier;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.training.ResumeFrom;

/**
 * The main job on the embedded default: prepare -> finetune -> classify on one machine, with the
 * local directory store. It runs the same services the Lambda functions run.
 */
@ApplicationScoped
public class Pipeline {

    static final int DEFAULT_EPOCHS = 4;
    static final String SAMPLE_RESOURCE = "/samples/spamassassin-sample.jsonl";
    static final String SAMPLE_FILE = "spamassassin-sample.jsonl";
    /** The dataset's name under prepared/ and models/. */
    static final String DATASET = "spamassassin-sample";
    /** Held-out messages shown with their predictions at the end, per label. */
    static final int EXAMPLES_PER_LABEL = 2;

    private static final Logger LOG = Logger.getLogger(Pipeline.class);

    @Inject
    ArtifactStore store;
    @Inject
    PrepareService prepare;
    @Inject
    FinetuneService finetune;
    @Inject
    AppConfig config;

    /**
     * Runs the pipeline with every artifact under {@code work}: a local directory, or an s3:// prefix
     * (then everything moves through S3 as in production: raw/, tokenizer/, prepared/, models/).
     *
     * @param data a JSON Lines or CSV file (local or s3://) with text and label columns; null for the bundled sample
     */
    public void run(String data, Location work, int epochs) throws IOException {
        if (data == null) {
            Location raw = work.resolve("raw");
            try (ArtifactStore.Staging staging = store.stage(raw, SAMPLE_FILE);
                 InputStream in = Pipeline.class.getResourceAsStream(SAMPLE_RESOURCE)) {
                Files.copy(in, staging.dir().resolve(SAMPLE_FILE));
                staging.commit();
            }
            data = raw.resolve(SAMPLE_FILE).toString();
            LOG.infof("using the bundled sample: 600 SpamAssassin messages (ham/spam), written to %s", data);
        }

        LOG.info("[1/4] building GPT-2's tokenizer.json from the byte-pair ranks shipped in jtokkit");
        Location tokenizer = work.resolve("tokenizer");
        try (ArtifactStore.Staging staging = store.stage(tokenizer, TextTokenizer.TOKENIZER_FILE)) {
            Gpt2TokenizerBuilder.writeTo(staging.dir());
            staging.commit();
        }

        LOG.info("[2/4] prepare: validating, splitting and tokenizing the dataset");
        PrepareRequest prep = new PrepareRequest();
        prep.train = data;
        prep.output = work.resolve("prepared/" + DATASET).toString();
        prep.tokenizer = tokenizer.toString();
        prep.maxLength = 256;
        prep.testFraction = 0.2;
        PrepareResponse summary = prepare.prepare(prep);
        LOG.infof("prepared %d rows (%d rejected): train %s, test %s -> %s", summary.accepted, summary.rejected,
                summary.splits.get("train").perClass(), summary.splits.get("test").perClass(), summary.output);

        LOG.infof("[3/4] finetune: a fresh tiny GPT-2 for %d epochs on %d CPU cores", epochs, Runtime.getRuntime().availableProcessors());
        FinetuneRequest train = new FinetuneRequest();
        train.dataset = prep.output;
        train.preset = "tiny";
        train.tokenizer = tokenizer.toString();
        train.output = work.resolve("models/" + DATASET).toString();
        train.training.learning_rate = 1e-3;
        train.training.num_train_epochs = epochs;
        train.training.per_device_train_batch_size = 16;
        train.training.per_device_eval_batch_size = 32;
        train.training.warmup_ratio = 0.1;
        train.training.logging_steps = 5;
        train.training.group_by_length = true;
        train.resumeFromCheckpoint = ResumeFrom.NEVER; // the pipeline prepares its data anew, so it trains anew
        FinetuneResponse result = finetune.finetune(train);

        LOG.info("[4/4] classify: the trained model, loaded as the classify function loads it, on held-out messages");
        TokenizedDataset dataset = TokenizedDataset.open(store.fetchSet(Location.parse(prep.output), Manifest.FILE));
        TokenizedDataset.Split test = dataset.split(Manifest.TEST);
        List<String> texts = new ArrayList<>();
        List<String> truth = new ArrayList<>();
        try (TextTokenizer decoder = TextTokenizer.load(store.fetchSet(tokenizer, TextTokenizer.TOKENIZER_FILE))) {
            for (int label = 0; label < dataset.labels().size(); label++) {
                for (int row = 0, taken = 0; row < test.size() && taken < EXAMPLES_PER_LABEL; row++) {
                    if (test.label(row) == label) {
                        texts.add(decoder.decode(test.tokens(row)));
                        truth.add(dataset.labels().get(label));
                        taken++;
                    }
                }
            }
        }
        Path model = store.fetchSet(Location.parse(train.output), ModelCheckpoint.CONFIG_FILE);
        try (TextClassifier classifier = TextClassifier.load(model, train.output, "", TextClassifier.DEFAULT_TOKENS_PER_FORWARD,
                config.classify().packedProducts())) {
            List<TextClassifier.Prediction> predictions = classifier.classify(texts);
            System.out.printf("%n  %-6s %-9s %-6s %s%n", "true", "predicted", "p", "message (first line)");
            for (int i = 0; i < texts.size(); i++) {
                TextClassifier.Prediction p = predictions.get(i);
                String firstLine = texts.get(i).strip().lines().findFirst().orElse("");
                System.out.printf("  %-6s %-9s %.3f  %s%n", truth.get(i), p.label(), p.score(),
                        firstLine.length() > 70 ? firstLine.substring(0, 70) + "..." : firstLine);
            }
        }
        System.out.printf("%nfinal evaluation on %d held-out messages: accuracy %.4f, macro-F1 %.4f%n",
                summary.splits.get("test").rows(), result.eval.accuracy, result.eval.macroF1);
        System.out.printf("checkpoint (Hugging Face layout): %s%n", train.output);
        System.out.printf("  Python:  GPT2ForSequenceClassification.from_pretrained(\"%s\")%n", train.output);
        System.out.printf("  serve:   GPT2CLS_CLASSIFY_MODEL=%s java -jar target/gpt2cls-runner.jar classify events/classify.json%n", train.output);
    }
}
