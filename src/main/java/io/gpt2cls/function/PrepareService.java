package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpt2cls.dataset.DatasetException;
import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.InputFiles;
import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.dataset.PartResult;
import io.gpt2cls.dataset.PartResults;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.dataset.PrepareSummary;
import io.gpt2cls.dataset.PrepareTask;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.PublishConflictException;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TruncationSide;

@ApplicationScoped
public class PrepareService {

    /** What the manifest names as the tokenizer when the request gives none. */
    static final String BUILT_IN_TOKENIZER = "gpt2 (built in)";
    private static final Logger LOG = Logger.getLogger(PrepareService.class);

    @Inject
    ArtifactStore store;

    @Inject
    BaseModels baseModels;

    /** Map tasks at once and the task size when prepare runs in this process ({@link AppConfig.Prepare}). */
    int workers = 1;
    long taskBytes = Long.MAX_VALUE;
    /** Where uploads above the threshold run; none when the code is used without CDI (tests, benchmarks). */
    PrepareRuns runs = new PrepareRuns(Optional.empty(), Long.MAX_VALUE, 1);

    @Inject
    void configure(AppConfig config, PrepareRuns runs) {
        this.workers = config.prepare().workers();
        this.taskBytes = workers > 1 ? config.prepare().taskSize().asLongValue() : Long.MAX_VALUE;
        this.runs = runs;
    }

    public PrepareResponse prepare(PrepareRequest request) {
        StrictRequest.requireValid(request);
        if (request.triggeredBy != null) {
            return prepareUploads(request.triggeredBy);
        }
        checkTruncationSide(request.truncationSide);
        StrictRequest.requireField(request.train, "train", "the location of a .jsonl or .csv file with text and label columns");
        StrictRequest.requireField(request.output, "output", "where the prepared dataset goes");
        Location output = Location.parse(request.output);
        PrepareSpec spec = new PrepareSpec();
        List<Path> fetched = new ArrayList<>(); // downloads, deleted when done: a warm container's disk must not fill up
        Optional<Location> recipe;
        List<Location> trainFiles;
        List<Location> testFiles;
        PreparedFrom inputs;
        try {
            recipe = finetuneRecipe(request.train, fetched);
            trainFiles = inputLocations(request.train);
            testFiles = request.test == null ? List.of() : inputLocations(request.test);
            spec.trainLocation = request.train;
            spec.testLocation = request.test;
            Path tokenizerSet = useTokenizer(request, spec, output);
            if (tokenizerSet != null) {
                fetched.add(tokenizerSet);
            }
            inputs = PreparedFrom.of(store, request, trainFiles, testFiles, recipe, spec.tokenizer);
        } catch (IOException e) {
            release(fetched);
            throw new UncheckedIOException(e.getMessage(), e);
        }
        ArtifactStore.Staging staging;
        try {
            staging = store.stage(output, Manifest.FILE, inputs.purpose());
        } catch (PublishConflictException busy) {
            release(fetched);
            if (busy.holder().map(holder -> inputs.purpose().equals(holder.purpose())).orElse(false)) {
                return PrepareResponse.skipped(output, output + " is being prepared from these same inputs (inputs version "
                        + inputs.version() + ") by " + busy.holder().get().describe() + "; nothing to do", inputs.version());
            }
            throw busy;
        } catch (IOException e) {
            release(fetched);
            throw new UncheckedIOException(e.getMessage(), e);
        }
        try (staging) {
            Optional<String> done = PreparedFrom.recordedVersion(store, output);
            if (done.isPresent() && done.get().equals(inputs.version())) {
                return PrepareResponse.skipped(output, output + " already holds the dataset prepared from these inputs (inputs"
                        + " version " + inputs.version() + "); nothing to do", inputs.version());
            }
            spec.trainFiles = fetch(trainFiles, fetched);
            spec.testFiles = request.test == null ? null : fetch(testFiles, fetched);
            spec.outputDir = staging.dir();
            applySettings(request, spec);
            spec.workers = workers;
            spec.taskBytes = taskBytes;
            PrepareSummary summary = new DatasetPreparer().prepare(spec);
            if (recipe.isPresent()) {
                fetched.add(store.fetchFile(recipe.get()));
                Files.copy(fetched.get(fetched.size() - 1), staging.dir().resolve(FinetuneRecipe.FILE));
            }
            inputs.recordIn(staging.dir().resolve(Manifest.FILE));
            staging.commit();
            PrepareResponse response = PrepareResponse.of(output, summary);
            response.finetuneRecipe = recipe.map(Location::toString).orElse(null);
            response.inputsVersion = inputs.version();
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            release(fetched);
        }
    }

    /** The request's reading, splitting and writing settings (everything but the locations). */
    private static void applySettings(PrepareRequest request, PrepareSpec spec) {
        spec.textColumn = request.textColumn;
        spec.labelColumn = request.labelColumn;
        spec.maxLength = request.maxLength;
        spec.truncationSide = request.truncationSide;
        spec.testFraction = request.testFraction;
        spec.seed = request.seed;
        spec.labels = request.labels;
        spec.maxShardBytes = request.maxShardBytes;
        spec.dropLeakedTestRows = request.dropLeakedTestRows;
    }

    // ---- distributed prepare: one map task per input file, then one reduce (infra: PrepareStateMachine) ----

    /** Where a run's map results are kept until its reduce has published the dataset: below the output, not part of its set. */
    static final String RUNS = "_prepare-runs";
    /** The reduce's answer, kept under the run: a second reduce of the run answers it instead of publishing again. */
    static final String REDUCED = "reduced";
    static final String REDUCED_ANSWER = "response.json";
    private static final java.util.regex.Pattern RUN_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,80}");

    /**
     * One map task: reads, validates and tokenizes one file of the run's input and stores the result
     * under the run, keyed by the input and the file's name (a second delivery replaces it whole). A
     * listed object that is not one of the input's files (a settings file, a file of a sub-prefix) is
     * skipped.
     */
    public PrepareMapResponse map(PrepareMapRequest mapRequest) {
        StrictRequest.requireValid(mapRequest);
        PrepareRequest request = runRequest(mapRequest.request, mapRequest.run);
        StrictRequest.requireField(mapRequest.file, "file", "the location of the input file this task reads");
        String given = inputOf(request, mapRequest.input);
        Location file = Location.parse(mapRequest.file);
        PrepareMapResponse response = new PrepareMapResponse();
        response.file = file.toString();
        Optional<String> notInput = notAnInputFile(given, file);
        if (notInput.isPresent()) {
            response.skipped = notInput.get();
            return response;
        }
        PrepareSpec spec = new PrepareSpec();
        applySettings(request, spec);
        PrepareTask task = null;
        try {
            useTokenizer(request, spec, Location.parse(request.output));
            task = PrepareTask.whole(mapRequest.input, 0, new InputFile(store.fetchFile(file), file.toString()));
            PartResult part;
            try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
                part = DatasetPreparer.map(spec, task, tokenizer);
            }
            Location stored = partLocation(request, mapRequest.run, task);
            try (ArtifactStore.Staging staging = store.stage(stored, PartResult.COMMIT)) {
                part.write(staging.dir());
                staging.commit();
            }
            response.part = stored.toString();
            response.rowsRead = part.rowsRead();
            response.examples = (long) part.examples();
            response.rejected = (long) part.rejected();
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /**
     * The reduce of a run: merges the map results of every file of the run's inputs and publishes the
     * dataset through the store's commit protocol. Once per run: the answer is kept under the run, and
     * a second reduce of the same run answers it without publishing again. The map results are deleted
     * once the dataset is published.
     */
    public PrepareResponse reduce(PrepareReduceRequest reduceRequest) {
        StrictRequest.requireValid(reduceRequest);
        PrepareRequest request = runRequest(reduceRequest.request, reduceRequest.run);
        Location output = Location.parse(request.output);
        Location run = output.resolve(RUNS + "/" + reduceRequest.run);
        Location reduced = run.resolve(REDUCED);
        List<Path> fetched = new ArrayList<>(); // the recipe, deleted when done as prepare's downloads are
        try {
            if (store.exists(reduced, REDUCED_ANSWER)) {
                LOG.infof("run %s was reduced before (its answer: %s); not publishing again", reduceRequest.run,
                        reduced.resolve(REDUCED_ANSWER));
                PrepareResponse response = new PrepareResponse();
                response.output = output.toString();
                response.manifest = output.resolve(Manifest.FILE).toString();
                response.reducedBefore = reduced.resolve(REDUCED_ANSWER).toString();
                return response;
            }
            Optional<Location> recipe = finetuneRecipe(request.train, fetched);
            PrepareSpec spec = new PrepareSpec();
            applySettings(request, spec);
            spec.trainLocation = request.train;
            spec.trainFiles = listedFiles(request.train);
            spec.testLocation = request.test;
            spec.testFiles = request.test == null ? null : listedFiles(request.test);
            useTokenizer(request, spec, Location.parse(request.output));
            List<PrepareTask> tasks = new ArrayList<>();
            for (int i = 0; i < spec.trainFiles.size(); i++) {
                tasks.add(PrepareTask.whole(Manifest.TRAIN, i, spec.trainFiles.get(i)));
            }
            for (int i = 0; spec.testFiles != null && i < spec.testFiles.size(); i++) {
                tasks.add(PrepareTask.whole(Manifest.TEST, i, spec.testFiles.get(i)));
            }
            // each task's result fetched when the reduce reads it (twice) and released right after: one at a time on disk
            PartResults parts = task -> {
                Location stored = partLocation(request, reduceRequest.run, task);
                if (!store.exists(stored, PartResult.COMMIT)) {
                    throw new DatasetException("run " + reduceRequest.run + " has no map result for " + task.file().location()
                            + " (" + task.input() + " file " + (task.fileIndex() + 1) + " of its input); its map task has not"
                            + " run or failed: run the prepare again");
                }
                Path dir = store.fetchSet(stored, PartResult.COMMIT);
                try {
                    return PartResult.read(dir, task);
                } finally {
                    release(List.of(dir));
                }
            };
            PrepareResponse response;
            try (ArtifactStore.Staging staging = store.stage(output, Manifest.FILE)) {
                spec.outputDir = staging.dir();
                PrepareSummary summary = new DatasetPreparer().reduce(spec, tasks, parts);
                if (recipe.isPresent()) {
                    fetched.add(store.fetchFile(recipe.get()));
                    Files.copy(fetched.get(fetched.size() - 1), staging.dir().resolve(FinetuneRecipe.FILE));
                }
                // what the dataset was made from, as the one-process prepare records it (a duplicate upload finds it)
                PreparedFrom.of(store, request, inputLocations(request.train),
                        request.test == null ? List.of() : inputLocations(request.test), recipe, spec.tokenizer)
                        .recordIn(staging.dir().resolve(Manifest.FILE));
                staging.commit();
                response = PrepareResponse.of(output, summary);
                response.finetuneRecipe = recipe.map(Location::toString).orElse(null);
            }
            try (ArtifactStore.Staging staging = store.stage(reduced, REDUCED_ANSWER)) {
                RequestParser.STRICT.writeValue(staging.dir().resolve(REDUCED_ANSWER).toFile(), response);
                staging.commit();
            }
            for (PrepareTask task : tasks) {
                store.deleteSet(partLocation(request, reduceRequest.run, task), PartResult.COMMIT);
            }
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            release(fetched);
        }
    }

    /** The run's prepare request, checked as prepare checks it, and a run name that is one location segment. */
    private static PrepareRequest runRequest(PrepareRequest request, String run) {
        if (request == null) {
            throw new InvalidRequestException("request", "field 'request' is required: the prepare request the run is for");
        }
        StrictRequest.requireValid(request);
        checkTruncationSide(request.truncationSide);
        StrictRequest.requireField(request.train, "request.train", "the location of the training input");
        StrictRequest.requireField(request.output, "request.output", "where the prepared dataset goes");
        StrictRequest.requireField(run, "run", "the run's name (the state machine's execution name)");
        if (!RUN_NAME.matcher(run).matches()) {
            throw new InvalidRequestException("run", "field 'run' must be 1 to 80 letters, digits, '-' or '_', got '" + run + "'");
        }
        return request;
    }

    private static String inputOf(PrepareRequest request, String input) {
        if (Manifest.TRAIN.equals(input)) {
            return request.train;
        }
        if (Manifest.TEST.equals(input) && request.test != null) {
            return request.test;
        }
        throw new InvalidRequestException("input", "field 'input' must be 'train'" + (request.test == null ? "" : " or 'test'")
                + ", got " + (input == null ? "none" : "'" + input + "'"));
    }

    /** Why {@code file} is not one of the files the input {@code given} names, if it is not. */
    private static Optional<String> notAnInputFile(String given, Location file) {
        boolean pattern = InputFiles.isPattern(given);
        Location where = Location.parse(pattern ? InputFiles.directoryOf(given) : given);
        if (where.equals(file)) {
            return Optional.empty(); // the input is this single file
        }
        if (!file.parent().equals(where)) {
            return Optional.of(file + " is not directly in " + where + ", so it is not one of the input's files");
        }
        try {
            InputFiles.select(given, List.of(file.name()));
            return Optional.empty();
        } catch (DatasetException e) {
            return Optional.of(file + " is not one of the input's files: " + e.getMessage());
        }
    }

    private Location partLocation(PrepareRequest request, String run, PrepareTask task) {
        return Location.parse(request.output).resolve(RUNS + "/" + run + "/" + task.key());
    }

    /** The request's tokenizer (GPT-2's when it names none), and the name the manifest records for it. */
    /** The request's tokenizer (a location or a Hub id) into {@code spec}; the fetched set to release when done, or null. */
    private Path useTokenizer(PrepareRequest request, PrepareSpec spec, Location output) throws IOException {
        BaseModels.Source tokenizer = request.tokenizer == null ? null : baseModels.resolve(request.tokenizer, "tokenizer", output);
        spec.tokenizer = tokenizer == null ? Gpt2TokenizerBuilder.cached() : Tokenizers.fetch(store, tokenizer.location());
        spec.tokenizerLocation = tokenizer == null ? BUILT_IN_TOKENIZER : tokenizer.name();
        return tokenizer == null ? null : spec.tokenizer.getParent();
    }

    /** The input's files by location, not fetched: the reduce reads the map results, never the files. */
    private List<InputFile> listedFiles(String given) throws IOException {
        return inputLocations(given).stream().map(file -> new InputFile(null, file.toString())).toList();
    }

    /** One run per announced object (S3 sends one per event); the answer is the last run's. */
    private PrepareResponse prepareUploads(List<PrepareTrigger.ObjectCreated> objects) {
        PrepareResponse response = null;
        for (PrepareTrigger.ObjectCreated object : objects) {
            PrepareTrigger.Resolution resolution;
            try {
                resolution = PrepareTrigger.resolve(object, store);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
            if (resolution.skipped() != null) {
                LOG.infof("upload s3://%s/%s: skipped, %s", object.bucket(), object.key(), resolution.skipped());
                response = new PrepareResponse();
                response.skipped = resolution.skipped();
            } else {
                response = prepareUpload(object, resolution.request());
            }
            response.triggeredBy = object.location().toString();
        }
        return response;
    }

    /** In this process, or on the distributed prepare's state machine when the input holds more than its threshold. */
    private PrepareResponse prepareUpload(PrepareTrigger.ObjectCreated object, PrepareRequest request) {
        long bytes = 0;
        StringBuilder versions = new StringBuilder();
        try {
            for (String given : request.test == null ? List.of(request.train) : List.of(request.train, request.test)) {
                for (Location file : inputLocations(given)) {
                    ArtifactStore.FileInfo info = store.fileInfo(file);
                    bytes += info.bytes();
                    versions.append(file).append(' ').append(info.version()).append('\n');
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        if (!runs.distributes(bytes)) {
            LOG.infof("upload s3://%s/%s: preparing %s (%d bytes) into %s", object.bucket(), object.key(), request.train, bytes,
                    request.output);
            return prepare(request);
        }
        StrictRequest.requireField(request.output, "output", "where the prepared dataset goes");
        PrepareResponse response = new PrepareResponse();
        response.output = request.output;
        response.distributedRun = runs.start(request, versions.toString());
        LOG.infof("upload s3://%s/%s: %s holds %d bytes; preparing it on the state machine, run %s", object.bucket(),
                object.key(), request.train, bytes, response.distributedRun);
        return response;
    }

    private static void checkTruncationSide(String side) {
        try {
            TruncationSide.parse(side);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("truncation_side", "field 'truncation_side': " + e.getMessage());
        }
    }

    /**
     * The training recipe that travels with the dataset: {@code finetune.json} beside the training
     * input (in it, when the input is a directory), checked now so a mistake shows before the dataset
     * is published and a GPU job starts on it.
     */
    private Optional<Location> finetuneRecipe(String train, List<Path> fetched) throws IOException {
        Location dir;
        if (InputFiles.isPattern(train)) {
            dir = Location.parse(InputFiles.directoryOf(train));
        } else {
            Location given = Location.parse(train);
            dir = store.listFiles(given).isEmpty() ? given.parent() : given;
        }
        Location recipe = dir.resolve(FinetuneRecipe.FILE);
        if (!store.listFiles(dir).contains(recipe)) {
            return Optional.empty();
        }
        fetched.add(store.fetchFile(recipe));
        FinetuneRecipe.read(fetched.get(fetched.size() - 1), recipe.toString());
        return Optional.of(recipe);
    }

    /** A file, the dataset files in a directory or prefix, or the files a pattern in the last segment matches. */
    private List<Location> inputLocations(String given) throws IOException {
        boolean pattern = InputFiles.isPattern(given);
        Location where = Location.parse(pattern ? InputFiles.directoryOf(given) : given);
        List<Location> listed = store.listFiles(where);
        if (!pattern && listed.isEmpty()) {
            return List.of(where);
        }
        return InputFiles.select(given, listed.stream().map(Location::name).toList()).stream().map(where::resolve).toList();
    }

    private List<InputFile> fetch(List<Location> locations, List<Path> fetched) throws IOException {
        List<InputFile> files = new ArrayList<>();
        for (Location file : locations) {
            fetched.add(store.fetchFile(file));
            files.add(new InputFile(fetched.get(fetched.size() - 1), file.toString()));
        }
        return files;
    }

    /** Lets the store delete its copies of what this run fetched (S3 downloads; local files stay where they are). */
    private void release(List<Path> fetched) {
        for (Path file : fetched) {
            try {
                store.release(file);
            } catch (IOException | RuntimeException e) {
                LOG.warnf("could not delete the downloaded %s: %s", file, e.getMessage());
            }
        }
    }
}
