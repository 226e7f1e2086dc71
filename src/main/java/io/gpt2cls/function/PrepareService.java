package io.gpt2cls.function;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpt2cls.dataset.DatasetException;
import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.InputBytes;
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
import io.quarkus.runtime.configuration.MemorySizeConverter;

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
    /**
     * How long a plan waits for another attempt of the same run that is planning (two attempts at once: a
     * retry while the first still runs), then answers that attempt's plan; within the plan function's 900 s.
     */
    Duration planWait = Duration.ofMinutes(5);
    /** The size of a distributed run's map tasks: its plan cuts larger JSON Lines and Parquet files into ranges. */
    long planTaskBytes = new MemorySizeConverter().convert(AppConfig.Prepare.TASK_SIZE).asLongValue();
    /**
     * Ranges of a file that a range task fetches in one request when at most this far apart, the gap
     * with them: a request costs a round trip (on S3 tens of milliseconds to the first byte, and a
     * charge), in which a connection moves 64 KiB in about a millisecond. So the column chunks of a
     * run of row groups, which a Parquet writer puts one after another, cost one request, while a task
     * still skips any column's chunk that is larger.
     */
    long fetchGapBytes = 64 * 1024;
    /** Where uploads above the threshold run; none when the code is used without CDI (tests, benchmarks). */
    PrepareRuns runs = new PrepareRuns(Optional.empty(), Long.MAX_VALUE, 1);

    @Inject
    void configure(AppConfig config, PrepareRuns runs) {
        this.workers = config.prepare().workers();
        this.taskBytes = workers > 1 ? config.prepare().taskSize().asLongValue() : Long.MAX_VALUE;
        this.planTaskBytes = config.prepare().taskSize().asLongValue();
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
            inputs = PreparedFrom.of(store::fileVersion, request, trainFiles, testFiles, recipe, spec.tokenizer);
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

    // ---- distributed prepare: a plan of map tasks, one per file or range of one, then one reduce (infra: PrepareStateMachine) ----

    /** A local output's runs: {@code <output>/_prepare-runs/<run>/} (see {@link #runLocation}). */
    static final String RUNS = "_prepare-runs";
    /** The run's plan, a set of one file: the map tasks, as the Distributed Map reads them. */
    static final String PLAN = "plan";
    static final String PLAN_FILE = "plan.json";
    /** The reduce's answer, kept under the run: a second reduce of the run answers it instead of publishing again. */
    static final String REDUCED = "reduced";
    static final String REDUCED_ANSWER = "response.json";
    private static final java.util.regex.Pattern RUN_NAME = java.util.regex.Pattern.compile("[A-Za-z0-9_-]{1,80}");

    /**
     * The plan of a run: lists the run's inputs (train, then test) and cuts their files into map tasks
     * by {@link PrepareTask#plan}'s rules, reading of each file only its size, first bytes and (Parquet)
     * footer. Stored under the run through the store's commit protocol, once: a second plan of the run
     * (a retried state) answers the stored plan, so the run keeps the tasks it started with even when
     * the input changed meanwhile. Two attempts at once: one plans, the other waits for its plan
     * ({@link #planWait}) and answers it, or plans itself if the first went away without one.
     */
    public PreparePlanResponse plan(PreparePlanRequest planRequest) {
        StrictRequest.requireValid(planRequest);
        PrepareRequest request = runRequest(planRequest.request, planRequest.run);
        Location plan = runLocation(request, planRequest.run).resolve(PLAN);
        try {
            List<PlannedTask> planned = new ArrayList<>();
            if (store.publishOnce(plan, PLAN_FILE, "plan of run " + planRequest.run, planWait, dir -> {
                planned.addAll(planTasks(request));
                RequestParser.STRICT.writeValue(dir.resolve(PLAN_FILE).toFile(), planned);
            })) {
                LOG.infof("run %s: %d map tasks planned into %s", planRequest.run, planned.size(), plan.resolve(PLAN_FILE));
                return planResponse(plan, planned.size(), false);
            }
            List<PlannedTask> stored = storedPlan(plan);
            LOG.infof("run %s was planned before (%d map tasks); answering its stored plan", planRequest.run, stored.size());
            return planResponse(plan, stored.size(), true);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    private List<PlannedTask> planTasks(PrepareRequest request) throws IOException {
        StoreBytes bytes = new StoreBytes();
        List<InputFile> train = listedFiles(request.train);
        List<InputFile> test = request.test == null ? List.of() : listedFiles(request.test);
        List<PlannedTask> tasks = new ArrayList<>();
        for (PrepareTask task : PrepareTask.plan(train, test, planTaskBytes, bytes)) {
            tasks.add(PlannedTask.of(task, bytes.info(task.file())));
        }
        return tasks;
    }

    private static PreparePlanResponse planResponse(Location plan, int tasks, boolean before) {
        PreparePlanResponse response = new PreparePlanResponse();
        Location file = plan.resolve(PLAN_FILE);
        response.plan = file.toString();
        if (!file.isLocal()) {
            response.bucket = file.bucket();
            response.key = file.key();
        }
        response.tasks = tasks;
        response.plannedBefore = before ? true : null;
        return response;
    }

    private List<PlannedTask> storedPlan(Location plan) throws IOException {
        Path dir = store.fetchSet(plan, PLAN_FILE);
        try {
            return List.of(RequestParser.STRICT.readValue(dir.resolve(PLAN_FILE).toFile(), PlannedTask[].class));
        } finally {
            release(List.of(dir));
        }
    }

    /** The store's files read by ranges for planning; each file's size and version from one look-up, kept for its plan item. */
    private final class StoreBytes implements InputBytes {
        private final Map<String, ArtifactStore.FileInfo> infos = new HashMap<>();

        ArtifactStore.FileInfo info(InputFile file) throws IOException {
            ArtifactStore.FileInfo info = infos.get(file.location());
            if (info == null) {
                info = store.fileInfo(Location.parse(file.location()));
                infos.put(file.location(), info);
            }
            return info;
        }

        @Override
        public long size(InputFile file) throws IOException {
            return info(file).bytes();
        }

        @Override
        public byte[] read(InputFile file, long offset, int length) throws IOException {
            try (InputStream in = store.openRange(Location.parse(file.location()), info(file).version(), offset, length)) {
                return in.readAllBytes();
            }
        }
    }

    /**
     * One map task: reads, validates and tokenizes one item of the run's plan and stores the result
     * under the run, keyed by the task (a second delivery replaces it whole). A whole-file task fetches
     * the planned version of the file; a range task fetches only the bytes its range needs
     * ({@link PrepareTask#bytesRead}: of Parquet, the text and label columns' chunks) of the planned
     * version, near ranges in one request ({@link #fetchGapBytes}), into a sparse copy, and the
     * first range of a file also streams the file once through a checksum (kept nowhere) for the
     * manifest. A file replaced since the plan fails the task, naming it.
     */
    public PrepareMapResponse map(PrepareMapRequest mapRequest) {
        StrictRequest.requireValid(mapRequest);
        PrepareRequest request = runRequest(mapRequest.request, mapRequest.run);
        PlannedTask planned = requirePlanned(request, mapRequest.task);
        Location file = Location.parse(planned.file);
        PrepareSpec spec = new PrepareSpec();
        applySettings(request, spec);
        List<Path> fetched = new ArrayList<>();
        RangedCopy copy = null;
        try {
            useTokenizer(request, spec, Location.parse(request.output));
            PrepareTask task;
            if (planned.task(null).isWhole()) {
                fetched.add(store.fetchFile(file, planned.fileVersion));
                task = planned.task(fetched.get(0));
            } else {
                copy = new RangedCopy(store, file, planned.fileVersion, planned.fileBytes);
                task = planned.task(copy.path());
                copy.fetch(task.bytesRead(copy, spec.columnsRead()), fetchGapBytes);
            }
            PartResult part;
            try (TextTokenizer tokenizer = DatasetPreparer.loadTokenizer(spec)) {
                part = DatasetPreparer.map(spec, task, tokenizer);
            }
            if (copy != null && task.from() == 0) {
                try (InputStream whole = store.openRange(file, planned.fileVersion, 0, planned.fileBytes)) {
                    part.checksumFile(whole);
                }
            }
            Location stored = partLocation(request, mapRequest.run, task);
            try (ArtifactStore.Staging staging = store.stage(stored, PartResult.COMMIT)) {
                part.write(staging.dir());
                staging.commit();
            }
            PrepareMapResponse response = new PrepareMapResponse();
            response.file = file.toString();
            response.from = planned.from;
            response.to = planned.to;
            response.part = stored.toString();
            response.rowsRead = part.rowsRead();
            response.examples = (long) part.examples();
            response.rejected = (long) part.rejected();
            response.fetchedBytes = copy != null ? copy.fetchedBytes() : planned.fileBytes;
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            release(fetched);
            if (copy != null) {
                try {
                    copy.close();
                } catch (IOException e) {
                    LOG.warnf("could not delete the ranged copy of %s: %s", file, e.getMessage());
                }
            }
        }
    }

    /** The plan item, checked field by field: an item is the plan's, so a gap is a plan written by another version. */
    private static PlannedTask requirePlanned(PrepareRequest request, PlannedTask task) {
        if (task == null) {
            throw new InvalidRequestException("task", "field 'task' is required: the item of the run's plan this task reads");
        }
        inputOf(request, task.input);
        StrictRequest.requireField(task.file, "task.file", "the location of the input file this task reads");
        StrictRequest.requireField(task.fileVersion, "task.file_version", "the version of the file the run planned");
        if (task.fileIndex == null || task.fileIndex < 0 || task.from == null || task.from < 0 || task.fileBytes == null
                || task.fileBytes < 0 || (task.to != null && task.to <= task.from)) {
            throw new InvalidRequestException("task", "field 'task' must hold file_index >= 0, from >= 0, to > from (or none:"
                    + " to the end) and file_bytes >= 0, as the run's plan writes them; got file_index " + task.fileIndex
                    + ", from " + task.from + ", to " + task.to + ", file_bytes " + task.fileBytes);
        }
        return task;
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
        Location run = runLocation(request, reduceRequest.run);
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
            // the tasks, files and versions the run planned, not a new listing: the input may have changed since
            List<PlannedTask> plan = requiredPlan(run.resolve(PLAN), reduceRequest.run);
            List<PrepareTask> tasks = plan.stream().map(planned -> planned.task(null)).toList();
            Map<String, String> plannedVersions = new HashMap<>();
            plan.forEach(planned -> plannedVersions.put(planned.file, planned.fileVersion));
            spec.trainLocation = request.train;
            spec.trainFiles = plannedFiles(tasks, Manifest.TRAIN);
            spec.testLocation = request.test;
            spec.testFiles = request.test == null ? null : plannedFiles(tasks, Manifest.TEST);
            useTokenizer(request, spec, Location.parse(request.output));
            // each task's result fetched when the reduce reads it (twice) and released right after: one at a time on disk
            PartResults parts = task -> {
                Location stored = partLocation(request, reduceRequest.run, task);
                if (!store.exists(stored, PartResult.COMMIT)) {
                    throw new DatasetException("run " + reduceRequest.run + " has no map result for " + task
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
            // what the dataset is made from, as the one-process prepare records it (a duplicate upload finds it): the
            // files and versions the run planned and read (the recipe, read now, as it is now)
            PreparedFrom inputs = PreparedFrom.of(file -> plannedVersions.containsKey(file.toString())
                            ? plannedVersions.get(file.toString()) : store.fileVersion(file), request, locations(spec.trainFiles),
                    spec.testFiles == null ? List.of() : locations(spec.testFiles), recipe, spec.tokenizer);
            PrepareResponse response;
            try (ArtifactStore.Staging staging = store.stage(output, Manifest.FILE)) {
                Optional<String> done = PreparedFrom.recordedVersion(store, output);
                if (done.isPresent() && done.get().equals(inputs.version())) {
                    // this reduce published it and stopped before storing its answer (then retried), or another run of
                    // the same inputs did: the one-process prepare's answer to a duplicate
                    response = PrepareResponse.skipped(output, output + " already holds the dataset prepared from this run's"
                            + " inputs (inputs version " + inputs.version() + "); nothing published", inputs.version());
                } else {
                    spec.outputDir = staging.dir();
                    PrepareSummary summary = new DatasetPreparer().reduce(spec, tasks, parts);
                    if (recipe.isPresent()) {
                        fetched.add(store.fetchFile(recipe.get()));
                        Files.copy(fetched.get(fetched.size() - 1), staging.dir().resolve(FinetuneRecipe.FILE));
                    }
                    inputs.recordIn(staging.dir().resolve(Manifest.FILE));
                    staging.commit();
                    response = PrepareResponse.of(output, summary);
                    response.finetuneRecipe = recipe.map(Location::toString).orElse(null);
                }
                response.inputsVersion = inputs.version();
            }
            try (ArtifactStore.Staging staging = store.stage(reduced, REDUCED_ANSWER)) {
                RequestParser.STRICT.writeValue(staging.dir().resolve(REDUCED_ANSWER).toFile(), response);
                staging.commit();
            }
            for (PrepareTask task : tasks) {
                store.deleteSet(partLocation(request, reduceRequest.run, task), PartResult.COMMIT);
            }
            store.deleteSet(run.resolve(PLAN), PLAN_FILE);
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            release(fetched);
        }
    }

    /** The run's stored plan; an error saying so when the plan step has not stored one. */
    private List<PlannedTask> requiredPlan(Location plan, String run) throws IOException {
        if (!store.exists(plan, PLAN_FILE)) {
            throw new DatasetException("run " + run + " has no plan at " + plan.resolve(PLAN_FILE) + "; its plan step has not run"
                    + " or failed, or its records expired (S3 keeps a run's plan, map results and answer for PrepareRunDays, 15 days"
                    + " by default): run the prepare again; a dataset it published stays as it is");
        }
        return storedPlan(plan);
    }

    private static List<Location> locations(List<InputFile> files) {
        return files.stream().map(file -> Location.parse(file.location())).toList();
    }

    /** The files of one input, in order, as the plan's tasks name them (no local copy: the reduce reads map results). */
    private static List<InputFile> plannedFiles(List<PrepareTask> tasks, String input) {
        java.util.SortedMap<Integer, InputFile> files = new java.util.TreeMap<>();
        tasks.stream().filter(task -> task.input().equals(input)).forEach(task -> files.put(task.fileIndex(), task.file()));
        return List.copyOf(files.values());
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
        Location output = Location.parse(request.output);
        if (!output.isLocal() && (output.key() + "/").startsWith(PrepareRuns.RESULTS + "/")) {
            throw new InvalidRequestException("request.output", "field 'request.output' is " + output + ", under the bucket's "
                    + PrepareRuns.RESULTS + "/, where runs keep their work and a lifecycle rule deletes it; name a location"
                    + " such as s3://" + output.bucket() + "/prepared/<dataset>");
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
        throw new InvalidRequestException("task.input", "field 'task.input' must be 'train'" + (request.test == null ? "" : " or 'test'")
                + ", got " + (input == null ? "none" : "'" + input + "'"));
    }

    /**
     * Where a run keeps its plan, its map results and its reduce's answer; not part of the dataset's set.
     * In S3, beside the Distributed Map's result manifests ({@code prepare-runs/<output key>/runs/<run>/}),
     * where the bucket's lifecycle rule expires what a failed run left (infra: {@code PrepareRunDays}): a
     * rule selects objects by a prefix from the bucket's root, so runs below each dataset could not be
     * selected. A local output keeps them below itself ({@code <output>/_prepare-runs/<run>/}).
     */
    static Location runLocation(PrepareRequest request, String run) {
        Location output = Location.parse(request.output);
        return output.isLocal() ? output.resolve(RUNS + "/" + run)
                : Location.parse("s3://" + output.bucket() + "/" + PrepareRuns.resultsPrefix(output) + "/runs/" + run);
    }

    private static Location partLocation(PrepareRequest request, String run, PrepareTask task) {
        return runLocation(request, run).resolve(task.key());
    }

    /** The request's tokenizer (GPT-2's when it names none), and the name the manifest records for it. */
    /** The request's tokenizer (a location or a Hub id) into {@code spec}; the fetched set to release when done, or null. */
    private Path useTokenizer(PrepareRequest request, PrepareSpec spec, Location output) throws IOException {
        BaseModels.Source tokenizer = request.tokenizer == null ? null : baseModels.resolve(request.tokenizer, "tokenizer", output);
        spec.tokenizer = tokenizer == null ? Gpt2TokenizerBuilder.cached() : Tokenizers.fetch(store, tokenizer.location());
        spec.tokenizerLocation = tokenizer == null ? BUILT_IN_TOKENIZER : tokenizer.name();
        return tokenizer == null ? null : spec.tokenizer.getParent();
    }

    /** The input's files by location, not fetched: the plan reads their sizes and ranges, never whole files. */
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
