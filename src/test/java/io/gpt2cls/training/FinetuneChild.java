package io.gpt2cls.training;

import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.logging.Level;

import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.Logger;
import org.jboss.logmanager.formatters.PatternFormatter;
import org.jboss.logmanager.handlers.ConsoleHandler;

import io.gpt2cls.runtime.GracefulStop;
import io.gpt2cls.runtime.SpotInterruptionWatcher;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.S3Settings;
import io.gpt2cls.storage.S3Store;

/**
 * A child process for {@link ResumeAfterKillTest}: one finetune run of the production job
 * ({@link FinetuneJob#run}) with checkpoints published to S3 (S3Proxy), exiting as the CLI does:
 * 0 when done, 143 when a SIGTERM or a spot notice stopped it after a checkpoint.
 *
 * <p>args: dataset dir, base model dir, output (s3://..., or a local directory), S3 endpoint, cache dir, max_steps,
 * and optionally an instance metadata endpoint to watch for a spot interruption notice, as the job does on EC2
 * (polled every 200 ms). The S3 credentials, region and checksum setting come as the SDK's system properties.
 */
public final class FinetuneChild {

    public static void main(String[] args) throws Exception {
        // log lines on stderr, as the application's console handler writes them; JBoss LogManager (the
        // JVM's log manager here, as in the jar) keeps its handlers open while shutdown hooks still log
        Logger root = LogContext.getLogContext().getLogger("");
        root.addHandler(new ConsoleHandler(ConsoleHandler.Target.SYSTEM_ERR, new PatternFormatter("%d{HH:mm:ss} %-5p [%c{1.}] %s%e%n")));
        root.setLevel(Level.INFO);
        S3Settings settings = new S3Settings(Path.of(args[4]), 16 * S3Settings.MIB, 16 * S3Settings.MIB, 4, 5,
                Optional.of(true), Optional.of(URI.create(args[3])));
        TrainingArguments training = ResumeAfterKillTest.trainingArguments(Integer.parseInt(args[5]));
        Location output = Location.parse(args[2]);
        try (S3Store s3 = S3Store.create(settings);
             SpotInterruptionWatcher spot = args.length > 6
                     ? SpotInterruptionWatcher.start(URI.create(args[6]), Duration.ofMillis(200), GracefulStop::request) : null) {
            ArtifactStore store = output.isLocal() ? new LocalStore() : s3;
            FinetuneJob.Outcome outcome = FinetuneJob.run(new FinetuneJob.Spec(Path.of(args[0]), Path.of(args[1]), null, null,
                    output, training, 1), store);
            Trainer.Result result = outcome.result();
            System.out.println("RESULT " + result.status() + " step " + result.state().global_step
                    + " resumed_from " + outcome.resumedFrom());
            System.out.flush();
            if (result.status() == Trainer.Status.STOPPED) {
                System.exit(143);
            }
        }
    }
}
