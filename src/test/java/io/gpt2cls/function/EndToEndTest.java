package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;

import io.gpt2cls.storage.LocalStore;

/** prepare -> finetune -> classify through the same services the functions use, on the local store. */
class EndToEndTest {

    @Test
    void preparesFinetunesAndServesOnTheLocalStore() throws Exception {
        Path work = Files.createTempDirectory("e2e-");
        LocalStore store = new LocalStore();

        PrepareService prepare = new PrepareService();
        prepare.store = store;
        prepare.baseModels = BaseModels.of(store, new TestConfig());
        PrepareRequest prep = new PrepareRequest();
        prep.train = TestModels.MESSAGES.toUri().toString(); // file: URIs work as well as paths
        prep.output = work.resolve("dataset").toString();
        prep.tokenizer = TestModels.tokenizer().toString();
        prep.maxLength = 96;
        PrepareResponse summary = prepare.prepare(prep);
        assertEquals(summary.rowsRead, summary.accepted + summary.rejected);
        assertEquals(80, summary.rowsRead);

        FinetuneService finetune = new FinetuneService();
        finetune.store = store;
        finetune.config = new TestConfig();
        finetune.baseModels = BaseModels.of(store, finetune.config);
        FinetuneRequest train = new FinetuneRequest();
        train.dataset = prep.output;
        train.tokenizer = prep.tokenizer;
        train.output = work.resolve("model").toString();
        train.training.max_steps = 4;
        train.training.learning_rate = 1e-3;
        FinetuneResponse trained = finetune.finetune(train);
        assertEquals(4, trained.globalStep);
        assertTrue(Files.exists(work.resolve("model/model.safetensors")));

        ClassifyService classify = new ClassifyService();
        classify.store = store;
        TestConfig config = new TestConfig();
        config.model = train.output;
        config.maxTexts = 8;
        config.tokensPerForward = 16; // several sub-batches
        classify.config = config;
        try {
            ClassifyRequest request = new ClassifyRequest();
            request.texts = List.of("Subject: lunch tomorrow?", "WIN A FREE CRUISE!!! click here", "Re: patch for the build");
            ClassifyResponse response = classify.classify(request);
            assertEquals(3, response.results.size());
            for (ClassifyResponse.Result r : response.results) {
                assertTrue(List.of("ham", "spam").contains(r.label));
                assertEquals(1.0, r.probabilities.values().stream().mapToDouble(Double::doubleValue).sum(), 1e-5);
                assertEquals(r.score, r.probabilities.get(r.label), 1e-9);
            }
            classify.classify(request);
            assertEquals(1, classify.loads(), "the model is loaded once and reused");
        } finally {
            classify.close();
        }
    }
}
