package io.gpt2cls.cli;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import ai.djl.ndarray.NDManager;

import io.gpt2cls.function.ClassifyFunction;
import io.gpt2cls.function.ClassifyRequest;
import io.gpt2cls.function.AppConfig;
import io.gpt2cls.function.BaseModels;
import io.gpt2cls.function.ClassifyService;
import io.gpt2cls.function.FinetuneRequest;
import io.gpt2cls.function.FinetuneResponse;
import io.gpt2cls.function.FinetuneService;
import io.gpt2cls.function.InvalidRequestException;
import io.gpt2cls.function.PrepareRequest;
import io.gpt2cls.function.PrepareService;
import io.gpt2cls.function.RequestParser;
import io.gpt2cls.function.StrictRequest;
import io.gpt2cls.hub.HubModelId;
import io.gpt2cls.hub.HubModels;
import io.gpt2cls.inference.RawLogits;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.model.ModelPreset;
import io.gpt2cls.runtime.Deadline;
import io.gpt2cls.runtime.GracefulStop;
import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TokenizerFiles;
import io.gpt2cls.tokenizer.Truncation;
import io.gpt2cls.tokenizer.TruncationSide;
import io.gpt2cls.training.ThroughputBenchmark;
import io.quarkus.runtime.Quarkus;
import io.quarkus.runtime.QuarkusApplication;
import io.quarkus.runtime.annotations.QuarkusMain;

/**
 * The jar's entry point. With no arguments it serves the exported function (AWS Lambda, dev
 * mode). With a command it runs one job and exits: that is how the GPU container runs
 * {@code finetune}, and how a user builds a tokenizer, creates a model or checks logits.
 */
@QuarkusMain
public class Main implements QuarkusApplication {

    static {
        // This class is the jar's entry point and its loggers, and the native preload's, are created before
        // Quarkus boots: name JBoss LogManager first, or java.util.logging's default manager (two-line
        // records, which break the JSON log lines) is fixed for the whole process.
        if (System.getProperty("java.util.logging.manager") == null) {
            System.setProperty("java.util.logging.manager", "org.jboss.logmanager.LogManager");
        }
    }

    private static final Logger LOG = Logger.getLogger(Main.class);

    /** Each command's usage line(s); {@code COMMAND --help} prints its own, {@code help} prints all. */
    static final Map<String, String> COMMANDS = commands();

    private static Map<String, String> commands() {
        Map<String, String> commands = new LinkedHashMap<>();
        commands.put("pipeline", "pipeline [--data FILE] [--work DIR|s3://bucket/prefix] [--epochs N]\n"
                + "    the whole pipeline: tokenizer, prepare, finetune a tiny GPT-2, classify (bundled sample by default)");
        commands.put("tokenizer", "tokenizer gpt2 --out DIR\n"
                + "    write GPT-2's tokenizer.json (+ tokenizer_config.json, special_tokens_map.json), built offline");
        commands.put("hub-import", "hub-import ID[@REVISION] --to LOCATION\n"
                + "    fetch a GPT-2 from the Hugging Face Hub (HF_ENDPOINT, HF_TOKEN) into LOCATION/<id>@<commit>/, pinned to the"
                + " commit and\n    checked against the Hub's SHA-256, for deployments whose fine-tuning job cannot reach the Hub"
                + " (LOCATION: s3://bucket/base-models)");
        commands.put("init-model", "init-model --preset tiny|gpt2-small|gpt2-medium --labels a,b --out DIR [--seed N]\n"
                + "    a fresh, randomly initialised checkpoint in the Hugging Face layout");
        commands.put("logits", "logits --model DIR --input FILE\n"
                + "    logits and pool index per row for {\"input_ids\": [[...]], \"attention_mask\": [[...]]}");
        commands.put("prepare", "prepare REQUEST\n    run the prepare function; REQUEST is a JSON file or location (s3:// too), - for stdin,"
                + " or the JSON itself");
        commands.put("finetune", "finetune REQUEST\n    run the finetune function (how the GPU container runs it); REQUEST as for prepare");
        commands.put("classify", "classify REQUEST\n    run the classify function (model: GPT2CLS_CLASSIFY_MODEL); REQUEST as for prepare");
        commands.put("bench-train", "bench-train --preset tiny|gpt2-small [--batch 8] [--seq 128] [--warmup 3] [--updates 20]\n"
                + "    training throughput (tokens/s) of the real training step on random rows");
        commands.put("bench-classify", "bench-classify --preset tiny|gpt2-small|gpt2-medium | --model DIR [--batch 1] [--seq 64]"
                + " [--requests 50] [--warmup 5] [--clients 1]\n"
                + "    classify latency (p50/p90/p99) through the function path and of the bare forward, texts/s, and the FLOP limit"
                + " from this machine's measured matMul peak (a preset: random weights)");
        commands.put("soak-classify", "soak-classify --preset gpt2-small | --model DIR [--requests 10000] [--max-seq 256] [--bad-every 20]\n"
                + "    memory (RSS) and a probe request's latency over many requests of mixed lengths, malformed ones among them");
        commands.put("help", "help\n    this list");
        return commands;
    }

    static String usage() {
        StringBuilder usage = new StringBuilder("usage: java -jar gpt2cls-runner.jar COMMAND [OPTIONS]   (COMMAND --help for one)\n");
        COMMANDS.values().forEach(line -> usage.append("  ").append(line.replace("\n", "\n  ")).append('\n'));
        usage.append("  (no command)\n      run GPT2CLS_JOB on GPT2CLS_JOB_REQUEST if set, else serve the function named by QUARKUS_FUNQY_EXPORT");
        return usage.toString();
    }

    /** Commands that load libtorch: their native libraries start loading as the process starts. */
    static final Set<String> MODEL_COMMANDS = Set.of("pipeline", "init-model", "logits", "finetune", "classify", "bench-train",
            "bench-classify", "soak-classify");

    /**
     * The jar's entry point. A run that will load a model (a model command, or serving or running
     * classify or finetune) loads libtorch beside Quarkus's boot ({@link NativeRuntime#preloadInBackground}).
     */
    public static void main(String... args) {
        String job = args.length > 0 ? args[0] : Optional.ofNullable(System.getenv("GPT2CLS_JOB"))
                .or(() -> Optional.ofNullable(System.getProperty("quarkus.funqy.export", System.getenv("QUARKUS_FUNQY_EXPORT"))))
                .orElse(DEFAULT_FUNCTION);
        if (MODEL_COMMANDS.contains(job)) {
            NativeRuntime.preloadInBackground();
        }
        Quarkus.run(Main.class, args);
    }

    /** quarkus.funqy.export in application.properties. */
    private static final String DEFAULT_FUNCTION = "classify";

    @Inject
    ObjectMapper json;
    @Inject
    PrepareService prepare;
    @Inject
    FinetuneService finetune;
    @Inject
    ClassifyService classify;
    @Inject
    ClassifyFunction classifyFunction;
    @Inject
    Pipeline pipeline;
    @Inject
    BaseModels baseModels;

    @Inject
    AppConfig config;
    @Inject
    ArtifactStore store;

    @Override
    public int run(String... args) {
        if (args.length == 0 && config.job().isPresent()) {
            // a batch container (AWS Batch, ECS) names its job in the environment: GPT2CLS_JOB + GPT2CLS_JOB_REQUEST
            args = new String[] {config.job().get(), config.jobRequest().orElse("-")};
        }
        if (args.length == 0) {
            Quarkus.waitForExit();
            return 0;
        }
        NativeRuntime.init();
        String command = args[0];
        List<String> rest = Arrays.asList(args).subList(1, args.length);
        if (COMMANDS.containsKey(command) && (rest.contains("--help") || rest.contains("-h"))) {
            System.out.println("usage: java -jar gpt2cls-runner.jar " + COMMANDS.get(command));
            return 0;
        }
        try {
            Options options = new Options(rest.toArray(new String[0]));
            switch (command) {
                case "pipeline" -> pipeline.run(options.named("data"), Location.parse(options.text("work", "runs/pipeline")),
                        options.integer("epochs", Pipeline.DEFAULT_EPOCHS));
                case "tokenizer" -> writeTokenizer(options);
                case "init-model" -> initModel(options);
                case "hub-import" -> print(hubImport(options));
                case "logits" -> logits(options);
                case "prepare" -> print(prepare.prepare(request(options, PrepareRequest.class)));
                case "finetune" -> {
                    return finetune(options);
                }
                case "classify" -> print(classify.classify(request(options, ClassifyRequest.class)));
                case "bench-classify" -> print(ClassifyBenchmark.latency(benchModel(options), benchShape(options),
                        options.integer("batch", 1), options.integer("seq", 64), options.integer("requests", 50),
                        options.integer("warmup", 5), options.integer("clients", 1), config.classify().packedProducts(), this::invoke));
                case "soak-classify" -> print(ClassifyBenchmark.soak(benchModel(options), benchShape(options),
                        options.integer("requests", 10_000), options.integer("max-seq", 256), options.integer("bad-every", 20), this::invoke));
                case "bench-train" -> print(ThroughputBenchmark.run(ModelPreset.byId(options.required("preset")),
                        options.integer("batch", 8), options.integer("seq", 128), options.integer("warmup", 3),
                        options.integer("updates", 20)));
                case "help", "--help", "-h" -> System.out.println(usage());
                default -> throw new UsageException("unknown command '" + command + "'");
            }
            return ExitStatus.DONE.code;
        } catch (RuntimeException | IOException e) {
            return failed(command, e).code;
        }
    }

    /** Says why {@code command} failed, one line in the cause's terms, and returns its {@link ExitStatus}. */
    private static ExitStatus failed(String command, Exception e) {
        ExitStatus status = ExitStatus.of(e);
        switch (status) {
            case USAGE -> {
                System.err.println("error: " + e.getMessage());
                System.err.println(COMMANDS.containsKey(command) ? "usage: java -jar gpt2cls-runner.jar " + COMMANDS.get(command) : usage());
            }
            case INTERNAL -> {
                LOG.error("internal error", e);
                System.err.println("error: internal error (" + e + "); the log above has the details");
            }
            case TEMPORARY_FAILURE -> {
                LOG.warn("storage unavailable; a later attempt may succeed", e);
                System.err.println("error: " + e.getMessage() + " (exit " + status.code + ": temporary, try again later)");
            }
            default -> System.err.println("error: " + (e instanceof NoSuchFileException missing ? "no such file: " + missing.getFile()
                    : e.getMessage()));
        }
        return status;
    }

    /**
     * Runs finetune and prints its answer inside a {@link GracefulStop} scope, so a SIGTERM lets
     * training publish a checkpoint and this answer reach stdout before the JVM exits.
     *
     * @return 0, or 143 ({@link ExitStatus#STOPPED}) when a stop request ended training after a
     *     checkpoint (the status a process killed by SIGTERM has, which AWS Batch's retry strategy retries)
     */
    private int finetune(Options options) throws IOException {
        try (GracefulStop.Scope scope = GracefulStop.enter(); Deadline deadline = ownDeadline()) {
            FinetuneResponse response = finetune.finetune(request(options, FinetuneRequest.class));
            print(response);
            return ("stopped".equals(response.status) ? ExitStatus.STOPPED : ExitStatus.DONE).code;
        }
    }

    /** The job's own deadline, {@code deadline-margin} before the platform's attempt timeout; null without one. */
    private Deadline ownDeadline() {
        if (config.finetune().attemptTimeout().isEmpty()) {
            return null;
        }
        Instant start = Instant.ofEpochMilli(ManagementFactory.getRuntimeMXBean().getStartTime());
        Instant stop = Deadline.before(start, config.finetune().attemptTimeout().get(), config.finetune().deadlineMargin());
        LOG.infof("this attempt stops itself at %s, %d s before its timeout (gpt2cls.finetune.attempt-timeout), after a checkpoint",
                stop, config.finetune().deadlineMargin().toSeconds());
        return Deadline.at(stop, Clock.systemUTC(), () -> GracefulStop.request("the attempt's own deadline has passed"
                + " (gpt2cls.finetune.attempt-timeout minus gpt2cls.finetune.deadline-margin)"));
    }

    private void writeTokenizer(Options options) throws IOException {
        String name = options.positional(0, "tokenizer name (gpt2)");
        if (!name.equals("gpt2")) {
            throw new UsageException("only the 'gpt2' tokenizer can be built offline; copy any other tokenizer.json from its model");
        }
        Path file = Gpt2TokenizerBuilder.writeTo(options.requiredPath("out"));
        System.out.println("wrote " + file + " (+ tokenizer_config.json, special_tokens_map.json)");
    }

    /** The pinned copy: where it is, and the request fields that name it. */
    private Map<String, String> hubImport(Options options) throws IOException {
        String given = options.positional(0, "Hub model id, e.g. openai-community/gpt2 or openai-community/gpt2@<commit>");
        HubModelId model = HubModelId.parse(given).orElseThrow(() -> new UsageException("'" + given
                + "' is not a Hub model id: write namespace/name[@revision], e.g. openai-community/gpt2"));
        HubModels.Copy copy = baseModels.importTo(model, Location.parse(options.required("to")));
        Map<String, String> answer = new LinkedHashMap<>();
        answer.put("model", model.toString());
        answer.put("pinned", copy.pinned());
        answer.put("location", copy.location().toString());
        return answer;
    }

    private void initModel(Options options) throws IOException {
        ModelPreset preset = ModelPreset.byId(options.required("preset"));
        List<String> labels = List.of(options.required("labels").split(","));
        Path out = options.requiredPath("out");
        long parameters = writeFreshModel(preset, labels, options.integer("seed", 42), out);
        System.out.printf("wrote a fresh %s GPT-2 classifier (%,d parameters, labels %s) to %s%n", preset.id, parameters, labels, out);
    }

    /** A fresh checkpoint of {@code preset}'s shape with GPT-2's tokenizer files in {@code out}; returns its parameter count. */
    public static long writeFreshModel(ModelPreset preset, List<String> labels, long seed, Path out) throws IOException {
        NativeRuntime.init();
        try (NDManager root = NDManager.newBaseManager();
             Gpt2ForSequenceClassification model = Gpt2ForSequenceClassification.randomInit(preset.config(labels), root, seed)) {
            ModelCheckpoint.save(model, out);
            // a fresh model reads up to n_positions tokens; fine-tuning records the dataset's cut instead
            TokenizerFiles.forModel(Gpt2TokenizerBuilder.cached(), model.config.pad_token_id,
                    new Truncation(model.config.n_positions, TruncationSide.RIGHT)).writeTo(out);
            return model.parameterCount();
        }
    }

    /** The benchmarks' model: {@code --model DIR}, or a preset's shape with random weights, written once to the temp directory. */
    private static Path benchModel(Options options) throws IOException {
        if (options.has("model")) {
            return options.requiredPath("model");
        }
        ModelPreset preset = ModelPreset.byId(options.required("preset"));
        Path dir = Path.of(System.getProperty("java.io.tmpdir"), "gpt2cls-bench", preset.id);
        if (!Files.exists(dir.resolve(ModelCheckpoint.WEIGHTS_FILE))) {
            writeFreshModel(preset, List.of("negative", "positive"), 1, dir);
        }
        return dir;
    }

    private static String benchShape(Options options) {
        return options.has("model") ? options.required("model") : options.required("preset") + " (random weights)";
    }

    /** The Lambda path in process: the event read as the runtime reads it, the function, the answer written as it writes it. */
    private String invoke(String event) {
        try {
            return json.writeValueAsString(classifyFunction.classify(json.readValue(event, ClassifyRequest.class)));
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("not an event the runtime would pass on: " + e.getOriginalMessage());
        }
    }

    private void logits(Options options) throws IOException {
        Path modelDir = options.requiredPath("model");
        Path input = options.requiredPath("input");
        if (!Files.isDirectory(modelDir)) {
            throw new IllegalArgumentException("model directory " + modelDir + " does not exist");
        }
        if (!Files.isRegularFile(input)) {
            throw new IllegalArgumentException("input file " + input + " does not exist");
        }
        JsonNode root;
        try {
            root = json.readTree(input.toFile());
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(input + " is not valid JSON: " + e.getOriginalMessage());
        }
        int[][] ids = intRows(root.get("input_ids"), "input_ids", input);
        int[][] mask = root.hasNonNull("attention_mask") ? intRows(root.get("attention_mask"), "attention_mask", input) : null;
        if (mask != null && mask.length != ids.length) {
            throw new IllegalArgumentException(input + ": attention_mask has " + mask.length + " rows but input_ids has " + ids.length);
        }
        List<Map<String, Object>> rows = RawLogits.compute(modelDir, ids, mask).stream().map(r -> {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("logits", r.logits());
            row.put("pool_index", r.poolIndex());
            return row;
        }).toList();
        print(Map.of("rows", rows));
    }

    private static int[][] intRows(JsonNode node, String field, Path file) {
        if (node == null || !node.isArray()) {
            throw new IllegalArgumentException(file + ": '" + field + "' must be a list of rows of integers, e.g. [[464, 3290]]");
        }
        int[][] rows = new int[node.size()][];
        for (int r = 0; r < rows.length; r++) {
            JsonNode row = node.get(r);
            if (!row.isArray()) {
                throw new IllegalArgumentException(file + ": " + field + "[" + r + "] is not a list of integers");
            }
            rows[r] = new int[row.size()];
            for (int p = 0; p < row.size(); p++) {
                if (!row.get(p).canConvertToInt() || !row.get(p).isIntegralNumber()) {
                    throw new IllegalArgumentException(file + ": " + field + "[" + r + "][" + p + "] = " + row.get(p) + " is not an integer");
                }
                rows[r][p] = row.get(p).asInt();
            }
        }
        return rows;
    }

    /**
     * The request: a file or s3:// location, {@code -} for stdin, or the JSON itself (starting with
     * '{'), which is how an AWS Batch job definition or an EventBridge target passes it in GPT2CLS_JOB_REQUEST.
     */
    private <T extends StrictRequest> T request(Options options, Class<T> type) throws IOException {
        String source = options.positional(0, "request: a JSON file or location, - for stdin, or the JSON itself");
        if (source.stripLeading().startsWith("{")) {
            return RequestParser.parse(source, type);
        }
        try (InputStream in = source.equals("-") ? System.in : Files.newInputStream(store.fetchFile(Location.parse(source)))) {
            return RequestParser.parse(in, type);
        } catch (InvalidRequestException e) {
            throw new InvalidRequestException(e.field(), source + ": " + e.getMessage());
        }
    }

    private void print(Object value) throws IOException {
        System.out.println(json.copy().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(value));
    }

    static final class UsageException extends RuntimeException {
        UsageException(String message) {
            super(message);
        }
    }

    /** {@code --name value} pairs and positional words. */
    static final class Options {
        private final Map<String, String> named = new LinkedHashMap<>();
        private final List<String> positional = new java.util.ArrayList<>();

        Options(String[] args) {
            for (int i = 0; i < args.length; i++) {
                if (args[i].startsWith("--")) {
                    if (i + 1 >= args.length) {
                        throw new UsageException("option " + args[i] + " needs a value");
                    }
                    named.put(args[i].substring(2), args[++i]);
                } else {
                    positional.add(args[i]);
                }
            }
        }

        boolean has(String name) {
            return named.containsKey(name);
        }

        String required(String name) {
            String value = named.get(name);
            if (value == null) {
                throw new UsageException("missing --" + name);
            }
            return value;
        }

        Path requiredPath(String name) {
            return Path.of(required(name));
        }

        String named(String name) {
            return named.get(name);
        }

        String text(String name, String fallback) {
            return named.getOrDefault(name, fallback);
        }

        int integer(String name, int fallback) {
            try {
                return named.containsKey(name) ? Integer.parseInt(named.get(name)) : fallback;
            } catch (NumberFormatException e) {
                throw new UsageException("--" + name + " must be a whole number, got '" + named.get(name) + "'");
            }
        }

        String positional(int index, String what) {
            if (positional.size() <= index) {
                throw new UsageException("missing " + what);
            }
            return positional.get(index);
        }
    }
}
