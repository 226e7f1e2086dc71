package io.gpt2cls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import io.gpt2cls.storage.S3ProxyTestResource;
import io.quarkus.test.common.QuarkusTestResource;
import io.quarkus.test.junit.main.LaunchResult;
import io.quarkus.test.junit.main.QuarkusMainLauncher;
import io.quarkus.test.junit.main.QuarkusMainTest;

/**
 * The README's main job with every artifact in S3: `pipeline --work s3://...` against a real
 * S3-compatible server, configured only through the standard AWS settings. Each stage reads what the
 * one before it published to S3: the raw sample, the tokenizer, the prepared dataset, the checkpoints
 * and the model that classify loads back.
 */
@QuarkusMainTest
@QuarkusTestResource(S3ProxyTestResource.class)
class PipelineOnS3Test {

    static final String WORK = "s3://" + S3ProxyTestResource.BUCKET + "/run-1";

    @Test
    void theWholePipelineRunsOnS3Locations(QuarkusMainLauncher launcher) {
        LaunchResult result = launcher.launch("pipeline", "--work", WORK, "--epochs", "1");
        assertEquals(0, result.exitCode(), result.getErrorOutput());
        String log = result.getOutput() + result.getErrorOutput(); // the launcher may put log lines on either
        for (String line : new String[] {
            "written to " + WORK + "/raw/spamassassin-sample.jsonl",
            "-> " + WORK + "/prepared/spamassassin-sample",
            "saved " + WORK + "/models/spamassassin-sample/checkpoint-",
            "loaded model " + WORK + "/models/spamassassin-sample (",
        }) {
            assertTrue(log.contains(line), "the log says: " + line + "\n" + log);
        }
        assertTrue(result.getOutput().contains("final evaluation on 120 held-out messages"), result.getOutput());
        assertTrue(result.getOutput().contains("checkpoint (Hugging Face layout): " + WORK + "/models/spamassassin-sample"),
                result.getOutput());
    }
}
