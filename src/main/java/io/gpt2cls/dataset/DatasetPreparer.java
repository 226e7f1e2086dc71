package io.gpt2cls.dataset;

import java.io.BufferedWriter;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.runtime.Directories;
import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TokenizerFingerprint;
import io.gpt2cls.tokenizer.TokenizerException;
import io.gpt2cls.tokenizer.TruncationSide;

/**
 * The {@code prepare} stage: reads dataset rows, keeps the valid ones and reports the rest,
 * splits train from test, tokenizes, and writes shards, {@code rejected.jsonl} and
 * {@code manifest.json} into the output directory, all at once or not at all.
 *
 * <p>It runs as map and reduce. A map task ({@link #map}, one per file or range of a large file, see
 * {@link PrepareTask}) reads, validates and tokenizes its rows without knowing of the others; the
 * reduce ({@link #reduce}) merges the tasks' results in file order, then decides what needs all rows:
 * the label map, the split (by a hash of each row's identity, see {@link StratifiedSplit}), duplicates
 * and leakage, and writes the set. {@link #prepare} runs both in one process, the tasks on
 * {@link PrepareSpec#workers} threads; the function layer runs the tasks on as many Lambdas. Since
 * no decision depends on which task read a row, any cut into tasks gives the same set.
 *
 * <p>Files are streamed, and so are the map results: memory holds one task's rows at a time plus a
 * few dozen bytes an accepted row (see {@link #reduce}), never a file's text or all rows' tokens.
 */
public final class DatasetPreparer {

    private static final Logger LOG = Logger.getLogger(DatasetPreparer.class);
    private static final long PROGRESS_NANOS = 10_000_000_000L;
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]+");
    private static final ObjectMapper JSON_LINE = new ObjectMapper();
    private static final String NO_TOKENS = "text has no tokens under this tokenizer";

    private final Clock clock;

    public DatasetPreparer() {
        this(Clock.systemUTC());
    }

    /** {@code clock} stamps {@code created_at}; a fixed clock makes runs byte-for-byte repeatable. */
    public DatasetPreparer(Clock clock) {
        this.clock = clock;
    }

    /**
     * Map and reduce in this process: every task of {@link PrepareTask#plan}, on {@link PrepareSpec#workers}
     * threads, each task's result written to disk so that the reduce holds one task's rows at a time, as
     * it does on the engine. The results live in a hidden directory inside the output, removed before
     * this returns; a process killed meanwhile leaves them in the output's staging directory, which the
     * store never commits and removes as a dead process's leftover.
     */
    public PrepareSummary prepare(PrepareSpec spec) throws IOException {
        spec.validate();
        List<PrepareTask> tasks = PrepareTask.plan(spec);
        Path results = Files.createTempDirectory(Files.createDirectories(spec.outputDir), ".map-results-");
        try {
            try (TextTokenizer tokenizer = loadTokenizer(spec)) {
                if (spec.workers == 1 || tasks.size() == 1) {
                    for (PrepareTask task : tasks) {
                        mapInto(results, spec, task, tokenizer);
                    }
                } else {
                    mapOnPool(results, spec, tasks, tokenizer);
                }
            }
            return reduce(spec, tasks, PartResults.in(results));
        } finally {
            Directories.deleteTree(results);
        }
    }

    private static void mapInto(Path results, PrepareSpec spec, PrepareTask task, TextTokenizer tokenizer) throws IOException {
        map(spec, task, tokenizer).write(Files.createDirectories(PartResults.dirOf(results, task)));
    }

    /**
     * The tasks on a pool; a failure is the first failing task's, in task order (as when they run in
     * turn). Every task has ended when this returns, so the caller may free the tokenizer.
     */
    private static void mapOnPool(Path results, PrepareSpec spec, List<PrepareTask> tasks, TextTokenizer tokenizer)
            throws IOException {
        ExecutorService pool = Workers.daemon(Math.min(spec.workers, tasks.size()), "prepare-map");
        try {
            List<Future<Void>> pending = new ArrayList<>();
            for (PrepareTask task : tasks) {
                pending.add(pool.submit(() -> {
                    mapInto(results, spec, task, tokenizer);
                    return null;
                }));
            }
            for (Future<Void> task : pending) {
                Workers.result(task, "preparing");
            }
        } finally {
            Workers.stop(pool);
        }
    }

    /** The tokenizer; an error names it by the location the user gave, not by a downloaded copy. */
    public static TextTokenizer loadTokenizer(PrepareSpec spec) throws IOException {
        try {
            return TextTokenizer.load(spec.tokenizer);
        } catch (TokenizerException e) {
            if (spec.tokenizerLocation == null) {
                throw e;
            }
            throw new TokenizerException(e.getMessage()
                    .replace(TextTokenizer.fileOf(spec.tokenizer).toString(), spec.tokenizerLocation)
                    .replace(spec.tokenizer.toString(), spec.tokenizerLocation));
        }
    }

    /** The user's name for an input: what they gave, or its single file's location. */
    private static String inputName(String given, List<InputFile> files) {
        if (given != null) {
            return given;
        }
        return files.size() == 1 ? files.get(0).location() : files.get(0).location() + " and " + (files.size() - 1) + " more";
    }

    /**
     * One map task: reads its rows, validating them as they come and tokenizing the valid ones
     * alongside. Only {@link PrepareSpec}'s reading settings matter here (columns, labels, max_length,
     * truncation side). Rows are located from the task's start.
     */
    public static PartResult map(PrepareSpec spec, PrepareTask task, TextTokenizer tokenizer) throws IOException {
        PartResult part = new PartResult(task);
        Path path = task.file().path();
        if (task.isWhole() && Files.isRegularFile(path) && Files.size(path) == 0) {
            part.emptyFile = true;
            part.sha256 = sha256(path);
            return part;
        }
        Set<String> listed = spec.labels == null ? null : new HashSet<>(spec.labels);
        RowValidator validator = new RowValidator(spec.textColumn, spec.labelColumn, listed, label -> notListed(spec, label));
        long started = System.nanoTime();
        long lastReport = started;
        try (ChunkTokenizer chunks = new ChunkTokenizer(tokenizer, spec.maxLength, TruncationSide.parse(spec.truncationSide));
             RowReader reader = RowReader.open(task, spec.columnsRead())) {
            Optional<List<String>> header = reader.header();
            if (header.isPresent()) {
                requireColumns(task.file().location(), header.get(), spec);
                part.header = true;
            }
            for (SourceRow row = reader.next(); row != null; row = reader.next()) {
                part.rowsRead++;
                RowValidator.Verdict verdict = validator.check(row);
                if (verdict instanceof RowValidator.Accepted accepted) {
                    chunks.add(row.location(), accepted.text(), accepted.label());
                } else if (verdict instanceof RowValidator.Rejected rejected) {
                    part.reject(row.location(), rejected.reason(), rejected.text());
                }
                if ((part.rowsRead & 1023) == 0 && System.nanoTime() - lastReport > PROGRESS_NANOS) {
                    lastReport = System.nanoTime();
                    LOG.infof("%s: %d rows read (%.0f rows/s), %d rejected so far", task, part.rowsRead,
                            part.rowsRead / ((lastReport - started) / 1e9), part.rejections.size());
                }
            }
            part.examples = chunks.finish();
            part.columns = new LinkedHashSet<>(reader.columns());
            part.positions = reader.position();
            part.texts = chunks.texts;
            part.chars = chunks.chars;
            part.tokens = chunks.tokens;
        }
        part.seconds = (System.nanoTime() - started) / 1e9;
        if (task.isWhole()) {
            part.sha256 = sha256(path);
        }
        return part;
    }

    private static String notListed(PrepareSpec spec, String label) {
        return "label '" + label + "' is not in the labels list " + spec.labels;
    }

    private static void requireColumns(String file, Collection<String> columns, PrepareSpec spec) {
        for (String column : spec.columnsRead()) {
            if (!columns.contains(column)) {
                throw new DatasetException("column '" + column + "' not found in " + file + "; columns are: "
                        + (columns.isEmpty() ? "(none: no line holds a JSON object)" : String.join(", ", columns)));
            }
        }
    }

    /**
     * The reduce: merges the results of {@code tasks}, which must cover each file of {@code spec}'s
     * inputs once, read from {@code results}, and writes the dataset into {@code spec.outputDir}. Reads
     * no input file, except to checksum one that was read in ranges.
     *
     * <p>Two passes over the results, one task's rows in memory at a time: the first keeps the accounts
     * and, of each accepted row, only its text's number, label and lengths ({@link AcceptedRows}), from
     * which the label map, the split, duplicates and leakage are decided; the second reads the tokens
     * again and writes them to the shards. Memory grows by about 16 bytes a row and 32 a distinct text
     * (up to twice that while the arrays grow; plus a rejection's preview for each rejected row), never
     * by a row's tokens: 10 M rows reduce in a 2 GB heap (BENCHMARKS.md).
     */
    public PrepareSummary reduce(PrepareSpec spec, List<PrepareTask> tasks, PartResults results) throws IOException {
        spec.validate();
        String trainName = inputName(spec.trainLocation, spec.trainFiles);
        List<List<PrepareTask>> trainRanges = rangesOf(Manifest.TRAIN, spec.trainFiles, tasks);
        List<List<PrepareTask>> testRanges = spec.hasTestFiles() ? rangesOf(Manifest.TEST, spec.testFiles, tasks) : List.of();

        // first pass: the accounts, and what each accepted row is without its tokens
        List<SourceFile> sources = new ArrayList<>();
        AcceptedRows rows = new AcceptedRows();
        Map<String, Integer> found = new LinkedHashMap<>();
        read(Manifest.TRAIN, trainName, spec.trainFiles, trainRanges, results, spec, label -> null, sources,
                row -> rows.add(row, found.computeIfAbsent(row.label(), label -> found.size())));
        int trainRows = rows.size();
        List<String> labels = labelOrder(spec.labels, new TreeSet<>(found.keySet()), trainRows, trainName);
        Map<String, Integer> label2id = new LinkedHashMap<>();
        labels.forEach(label -> label2id.put(label, label2id.size()));
        rows.relabel(found.keySet().stream().mapToInt(label2id::get).toArray());
        UnaryOperator<String> unseen = label -> label2id.containsKey(label) ? null
                : "label '" + label + "' does not occur in the training input " + trainName;
        if (spec.hasTestFiles()) {
            read(Manifest.TEST, inputName(spec.testLocation, spec.testFiles), spec.testFiles, testRanges, results, spec,
                    unseen, sources, row -> rows.add(row, label2id.get(row.label())));
        }

        // the split, leakage and duplicates, by row number
        BitSet test;
        Manifest.SplitMethod method;
        if (!spec.hasTestFiles()) {
            test = StratifiedSplit.split(rows, trainRows, labels.size(), spec.testFraction, spec.seed);
            method = new Manifest.SplitMethod(Manifest.SplitMethod.STRATIFIED, spec.testFraction, spec.seed);
        } else {
            test = new BitSet(rows.size());
            test.set(trainRows, rows.size());
            method = new Manifest.SplitMethod(Manifest.SplitMethod.FILES, null, spec.seed);
        }
        BitSet train = new BitSet(rows.size());
        train.set(0, rows.size());
        train.andNot(test);
        BitSet trainTexts = TextOverlap.texts(rows, train);
        BitSet leaked = new BitSet(rows.size());
        test.stream().filter(row -> trainTexts.get(rows.textId(row))).forEach(leaked::set);
        if (spec.dropLeakedTestRows) {
            test.andNot(leaked);
        }

        // second pass: the tokens, into the shards; where each leaked text is first in train
        Path out = Files.createDirectories(spec.outputDir);
        Shards.Writer trainShards = new Shards.Writer(out, Manifest.TRAIN, label2id, spec.maxShardBytes);
        Shards.Writer testShards = new Shards.Writer(out, Manifest.TEST, label2id, spec.maxShardBytes);
        BitSet leakedTexts = TextOverlap.texts(rows, leaked);
        Map<Integer, RowLocation> firstInTrain = new HashMap<>();
        record LeakedRow(RowLocation location, String preview, int text) {}
        List<LeakedRow> leakedRows = new ArrayList<>();
        int[] next = {0};
        RowSink write = example -> {
            int number = next[0]++;
            if (number >= rows.size() || rows.textId(number) != rows.texts.idOf(example.text())) {
                throw changedWhileRead(example.location().toString());
            }
            if (leaked.get(number)) {
                leakedRows.add(new LeakedRow(example.location(), example.preview(), rows.textId(number)));
            }
            if (test.get(number)) {
                testShards.add(example);
            } else if (train.get(number)) {
                trainShards.add(example);
                if (leakedTexts.get(rows.textId(number))) {
                    firstInTrain.putIfAbsent(rows.textId(number), example.location());
                }
            }
        };
        read(Manifest.TRAIN, trainName, spec.trainFiles, trainRanges, results, spec, label -> null, null, write);
        if (spec.hasTestFiles()) {
            read(Manifest.TEST, null, spec.testFiles, testRanges, results, spec, unseen, null, write);
        }
        if (next[0] != rows.size()) {
            throw changedWhileRead(next[0] + " accepted rows instead of " + rows.size());
        }
        List<TextOverlap.Leak> leaks = leakedRows.stream()
                .map(row -> new TextOverlap.Leak(row.location(), row.preview(), firstInTrain.get(row.text()))).toList();
        if (!leaks.isEmpty()) {
            LOG.warnf("%d test rows have the exact text of a train row (leakage)%s; first: %s", leaks.size(),
                    spec.dropLeakedTestRows ? ", dropped from the test split" : "", leaks.get(0).test());
        }
        if (spec.dropLeakedTestRows) {
            dropLeaked(leaks, sources);
        }
        Map<String, Manifest.SplitStats> splits = new LinkedHashMap<>();
        splits.put(Manifest.TRAIN, splitStats(rows, train, labels, trainShards.finish()));
        splits.put(Manifest.TEST, splitStats(rows, test, labels, testShards.finish()));
        return write(spec, sources, labels, label2id, method, splits, TextOverlap.report(leaks, spec.dropLeakedTestRows));
    }

    private static DatasetException changedWhileRead(String what) {
        return new DatasetException("a map result changed while the reduce read it (" + what + " differs between its two"
                + " reads); run the prepare again");
    }

    /** Receives the accepted rows of a pass over the map results. */
    @FunctionalInterface
    private interface RowSink {
        void accept(Example row) throws IOException;
    }

    /**
     * One pass over one input's map results, in file order: each file's ranges placed one after the
     * other, its rows refused where {@code labelProblem} (why a label is refused, or null) or a text
     * without tokens says so, the others given to {@code sink}. With {@code sources} (the first pass),
     * also each file's account, summed from its ranges, and the checks that need the whole file.
     */
    private static void read(String input, String inputName, List<InputFile> files, List<List<PrepareTask>> ranges,
            PartResults results, PrepareSpec spec, UnaryOperator<String> labelProblem, List<SourceFile> sources,
            RowSink sink) throws IOException {
        boolean accounting = sources != null;
        List<SourceFile> inputSources = new ArrayList<>();
        long accepted = 0;
        long texts = 0;
        long chars = 0;
        long tokens = 0;
        double seconds = 0;
        for (int i = 0; i < files.size(); i++) {
            InputFile file = files.get(i);
            SourceFile source = new SourceFile(file, input);
            inputSources.add(source);
            Set<String> columns = new LinkedHashSet<>();
            boolean emptyFile = false;
            boolean header = false;
            long offset = 0;
            for (PrepareTask task : ranges.get(i)) {
                PartResult range = results.read(task);
                if (task.from() == 0) { // what the file's first task saw (kept, not its result: one result in memory at a time)
                    source.sha256 = range.sha256;
                    emptyFile = range.emptyFile;
                    header = range.header;
                }
                source.rowsRead += range.rowsRead;
                if (accounting) {
                    range.rejections(offset).forEach(source::reject);
                }
                for (Example example : range.examples(offset)) {
                    String problem = labelProblem.apply(example.label());
                    if (problem == null && example.textTokens() == 0) {
                        problem = NO_TOKENS;
                    }
                    if (problem == null) {
                        source.accepted++;
                        sink.accept(example);
                    } else if (accounting) {
                        source.reject(example, problem);
                    }
                }
                offset += range.positions;
                columns.addAll(range.columns);
                texts += range.texts;
                chars += range.chars;
                tokens += range.tokens;
                seconds += range.seconds;
            }
            accepted += source.accepted;
            if (accounting) {
                checkFile(source, emptyFile, header, columns, files.size() == 1, spec);
            }
        }
        if (!accounting) {
            return;
        }
        LOG.infof("%s: %d rows read, %d accepted, %d rejected; tokenized %d texts (%.1f M chars) into %d tokens"
                        + " in %.1f task-seconds (%.0f rows/s, %.0f tokens/s a task)", inputName,
                inputSources.stream().mapToLong(s -> s.rowsRead).sum(), accepted,
                inputSources.stream().mapToLong(s -> s.rejections().size()).sum(), texts, chars / 1e6, tokens, seconds,
                texts / Math.max(seconds, 1e-9), tokens / Math.max(seconds, 1e-9));
        sources.addAll(inputSources);
        if (inputSources.stream().allMatch(source -> source.rowsRead == 0)) {
            throw new DatasetException(inputName + " holds no rows");
        }
        if (accepted == 0) {
            String firstRejections = inputSources.stream().flatMap(source -> source.rejections().stream()).limit(3)
                    .map(Rejection::toString).collect(Collectors.joining("; "));
            throw new DatasetException("no row of " + inputName + " was accepted ("
                    + inputSources.stream().mapToLong(s -> s.rowsRead).sum() + " read); first rejections: " + firstRejections);
        }
    }

    /** A file's checksum, and the checks that need all of it: empty, no rows, a column no row has. */
    private static void checkFile(SourceFile source, boolean emptyFile, boolean header, Set<String> columns, boolean onlyFile,
            PrepareSpec spec) throws IOException {
        InputFile file = source.file;
        if (source.sha256 == null) { // read in ranges: no task saw the whole file
            source.sha256 = sha256(file.path());
        }
        if (emptyFile) {
            if (onlyFile) {
                throw new DatasetException("dataset file " + file.location() + " is empty");
            }
            LOG.warnf("%s is empty; its input's other files are read", source.name());
        } else if (source.rowsRead == 0) {
            if (onlyFile) {
                throw new DatasetException(source.name() + " holds no rows" + (header ? ", only a header" : ""));
            }
            LOG.warnf("%s holds no rows; its input's other files are read", source.name());
        } else if (!header) {
            // JSON Lines has no header: a column is missing only if no row has it
            requireColumns(source.name(), columns, spec);
        }
    }

    /** For each of an input's files, its tasks in file order; refused unless they cover the file from start to end once. */
    private static List<List<PrepareTask>> rangesOf(String input, List<InputFile> files, List<PrepareTask> tasks) {
        List<List<PrepareTask>> byFile = new ArrayList<>();
        for (int fileIndex = 0; fileIndex < files.size(); fileIndex++) {
            int index = fileIndex;
            InputFile file = files.get(fileIndex);
            List<PrepareTask> ranges = tasks.stream()
                    .filter(task -> task.input().equals(input) && task.fileIndex() == index)
                    .sorted(Comparator.comparingLong(PrepareTask::from))
                    .toList();
            long expected = 0;
            for (PrepareTask range : ranges) {
                if (!range.file().location().equals(file.location()) || range.from() != expected) {
                    throw new DatasetException("the map results for " + file.location() + " do not cover it once from start"
                            + " to end (" + ranges.stream().map(PrepareTask::toString).toList() + "); run the prepare again");
                }
                expected = range.to();
            }
            if (ranges.isEmpty() || expected != PrepareTask.WHOLE) {
                throw new DatasetException("no map result for " + (ranges.isEmpty() ? "" : "the end of ") + file.location()
                        + " (" + input + " file " + (fileIndex + 1) + "); its map task has not run or failed: run the prepare again");
            }
            byFile.add(ranges);
        }
        return byFile;
    }

    /** Of a file's bytes as stored (compressed, if it is). */
    static String sha256(Path file) throws IOException {
        return Shards.sha256(file);
    }

    /** The explicit order if given; else numeric order when every label is an integer, else alphabetical. */
    private static List<String> labelOrder(List<String> explicit, SortedSet<String> found, int trainRows, String trainName) {
        if (found.size() < 2) {
            throw new DatasetException(trainName + " has only the label '" + found.first() + "' among its "
                    + trainRows + " accepted rows; a classifier needs at least 2 labels");
        }
        if (explicit != null) {
            return List.copyOf(explicit);
        }
        List<String> labels = new ArrayList<>(found);
        if (labels.stream().allMatch(label -> INTEGER.matcher(label).matches())) {
            labels.sort(Comparator.comparing(BigInteger::new));
        }
        return labels;
    }

    /** Each leaked test row becomes a rejection in its file's account (the caller left it out of the shards). */
    private static void dropLeaked(List<TextOverlap.Leak> leaks, List<SourceFile> sources) {
        Map<String, SourceFile> byLocation = new LinkedHashMap<>();
        sources.forEach(source -> byLocation.put(source.name(), source));
        for (TextOverlap.Leak leak : leaks) {
            byLocation.get(leak.test().file()).drop(leak.test(), leak.testPreview(), "leaked: also in train at " + leak.train());
        }
    }

    /** A split's numbers: rows per class (every label, zeros too), duplicates, token lengths, the shards written. */
    private static Manifest.SplitStats splitStats(AcceptedRows rows, BitSet split, List<String> labels,
            List<Manifest.Shard> shards) {
        int[] perLabel = new int[labels.size()];
        int[] lengths = new int[split.cardinality()];
        int[] textLengths = new int[lengths.length];
        int truncated = 0;
        int n = 0;
        for (int row = split.nextSetBit(0); row >= 0; row = split.nextSetBit(row + 1)) {
            perLabel[rows.label(row)]++;
            lengths[n] = rows.length(row);
            textLengths[n++] = rows.textLength(row);
            truncated += rows.textLength(row) > rows.length(row) ? 1 : 0;
        }
        Map<String, Integer> perClass = new LinkedHashMap<>();
        for (int label = 0; label < labels.size(); label++) {
            perClass.put(labels.get(label), perLabel[label]);
        }
        return new Manifest.SplitStats(n, perClass, TextOverlap.duplicates(rows, split), shards,
                Manifest.TokenStats.of(lengths), Manifest.TokenStats.of(textLengths), truncated,
                n == 0 ? 0 : (double) truncated / n);
    }

    /** What is left once the shards are written: {@code rejected.jsonl} and the manifest, last. */
    private PrepareSummary write(PrepareSpec spec, List<SourceFile> sources, List<String> labels,
            Map<String, Integer> label2id, Manifest.SplitMethod method, Map<String, Manifest.SplitStats> splits,
            Manifest.Leakage leakage) throws IOException {
        List<Rejection> rejections = sources.stream().flatMap(source -> source.rejections().stream()).toList();
        Path out = spec.outputDir;
        writeRejections(out.resolve(Manifest.REJECTED_FILE), rejections);
        List<Manifest.Source> manifestSources = new ArrayList<>();
        for (SourceFile source : sources) {
            manifestSources.add(source.toManifest());
        }
        Map<String, String> inputs = new LinkedHashMap<>();
        inputs.put(Manifest.TRAIN, inputName(spec.trainLocation, spec.trainFiles));
        if (spec.hasTestFiles()) {
            inputs.put(Manifest.TEST, inputName(spec.testLocation, spec.testFiles));
        }
        Manifest manifest = new Manifest(
                Manifest.FORMAT,
                Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString(),
                new Manifest.TokenizerInfo(TextTokenizer.sha256(Files.readAllBytes(TextTokenizer.fileOf(spec.tokenizer))),
                        spec.tokenizerLocation != null ? spec.tokenizerLocation : spec.tokenizer.toString(),
                        TokenizerFingerprint.of(TextTokenizer.fileOf(spec.tokenizer))),
                spec.maxLength,
                spec.truncationSide,
                spec.textColumn,
                spec.labelColumn,
                labels,
                label2id,
                inputs,
                method,
                manifestSources,
                splits,
                leakage,
                new Manifest.RejectedReport(rejections.size(), Manifest.REJECTED_FILE));
        manifest.write(out);
        PrepareSummary summary = PrepareSummary.of(manifest, rejections);
        LOG.infof("prepared: %d rows read, %d accepted (train %d, test %d), %d rejected, %d leaked", summary.rowsRead(),
                summary.accepted(), splits.get(Manifest.TRAIN).rows(), splits.get(Manifest.TEST).rows(), summary.rejected(),
                leakage.rows());
        return summary;
    }

    private static void writeRejections(Path file, List<Rejection> rejections) throws IOException {
        try (BufferedWriter out = Files.newBufferedWriter(file, StandardCharsets.UTF_8)) {
            for (Rejection rejection : rejections) {
                out.write(JSON_LINE.writeValueAsString(rejection));
                out.write('\n');
            }
        }
    }
}
