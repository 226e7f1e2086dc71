package io.gpt2cls.function;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import jakarta.annotation.PreDestroy;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.node.ObjectNode;

import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.services.sfn.SfnClient;
import software.amazon.awssdk.services.sfn.model.ExecutionAlreadyExistsException;

import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.TextTokenizer;

/**
 * Starts distributed prepare runs on the state machine (infra/template.yaml, PrepareStateMachine):
 * {@code preparePlan}, a Distributed Map of {@code prepareMap} over the plan's items (whole files and
 * ranges of large ones), then {@code prepareReduce}.
 *
 * <p>A run is named after what it prepares (the request and each input file's ETag), so the same
 * upload announced twice starts one run: Step Functions answers a second StartExecution of a name
 * with the first run (same input) or refuses it (ExecutionAlreadyExists), and both mean "already started".
 */
@ApplicationScoped
public class PrepareRuns {

    private static final Logger LOG = Logger.getLogger(PrepareRuns.class);
    /**
     * The bucket's prefix for what runs leave beside their dataset: the Distributed Map's result manifests
     * and each run's plan and map results ({@link PrepareService#runLocation}). Not under prepared/: the
     * ResultWriter writes a manifest.json, which must not look like a dataset's. The bucket's lifecycle rule
     * expires it (infra: PrepareRunDays).
     */
    static final String RESULTS = "prepare-runs";

    private final Optional<String> stateMachine;
    private final long distributedAbove;
    private final int mapConcurrency;
    private SfnClient client;

    @Inject
    PrepareRuns(AppConfig config) {
        this(config.prepare().stateMachine(), config.prepare().distributedAbove().asLongValue(), config.prepare().mapConcurrency());
    }

    PrepareRuns(Optional<String> stateMachine, long distributedAbove, int mapConcurrency) {
        this.stateMachine = stateMachine;
        this.distributedAbove = distributedAbove;
        this.mapConcurrency = mapConcurrency;
    }

    /** Whether an input of {@code bytes} runs on the state machine rather than in this process. */
    boolean distributes(long bytes) {
        return stateMachine.isPresent() && bytes > distributedAbove;
    }

    /**
     * The execution input: the prepare request, where (bucket, prefix) the Distributed Map writes its
     * result manifests, and how many map tasks run at once.
     */
    static ObjectNode executionInput(PrepareRequest request, int mapConcurrency) {
        ObjectNode input = RequestParser.STRICT.createObjectNode();
        input.set("request", request.json());
        // the bucket of the Map's ResultWriter; the plan step lists the inputs
        Location output = Location.parse(request.output);
        input.put("bucket", output.bucket());
        input.put("results_prefix", resultsPrefix(output));
        input.put("max_concurrency", mapConcurrency);
        return input;
    }

    /** {@code prepare-runs/<output key>}: the runs of one output, and its Distributed Map's result manifests. */
    static String resultsPrefix(Location output) {
        return RESULTS + "/" + output.key();
    }

    /** {@code prepare-} and 32 hex digits of SHA-256 over the request and its input files' versions (one line each). */
    static String runName(PrepareRequest request, String versions) {
        return "prepare-" + TextTokenizer.sha256((request.json() + "\n" + versions).getBytes(StandardCharsets.UTF_8)).substring(0, 32);
    }

    /** Starts the run named {@code run} (see the class comment) and returns its execution ARN, or says it had started. */
    String start(PrepareRequest request, String versions) {
        String run = runName(request, versions);
        String input = executionInput(request, mapConcurrency).toString();
        try {
            String arn = client().startExecution(b -> b.stateMachineArn(stateMachine.orElseThrow()).name(run).input(input))
                    .executionArn();
            LOG.infof("started distributed prepare run %s: %s", run, arn);
            return arn;
        } catch (ExecutionAlreadyExistsException e) {
            LOG.infof("distributed prepare run %s was started before", run);
            return stateMachine.orElseThrow().replace(":stateMachine:", ":execution:") + ":" + run;
        }
    }

    private synchronized SfnClient client() {
        if (client == null) {
            client = SfnClient.builder().httpClientBuilder(Apache5HttpClient.builder()).build();
        }
        return client;
    }

    @PreDestroy
    synchronized void close() {
        if (client != null) {
            client.close();
        }
    }
}
