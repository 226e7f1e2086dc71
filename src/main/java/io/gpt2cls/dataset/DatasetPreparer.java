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
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

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
 * <p>Files are streamed: memory holds the kept token ids of every accepted row (4 bytes a token) plus
 * about 300 bytes a row (location, label, text key, preview), never a file's text.
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

    /** Map and reduce in this process: every task of {@link PrepareTask#plan}, on {@link PrepareSpec#workers} threads. */
    public PrepareSummary prepare(PrepareSpec spec) throws IOException {
        spec.validate();
        List<PrepareTask> tasks = PrepareTask.plan(spec);
        List<PartResult> parts;
        try (TextTokenizer tokenizer = loadTokenizer(spec)) {
            parts = spec.workers == 1 || tasks.size() == 1 ? mapInTurn(spec, tasks, tokenizer) : mapOnPool(spec, tasks, tokenizer);
        }
        return reduce(spec, parts);
    }

    private static List<PartResult> mapInTurn(PrepareSpec spec, List<PrepareTask> tasks, TextTokenizer tokenizer)
            throws IOException {
        List<PartResult> parts = new ArrayList<>();
        for (PrepareTask task : tasks) {
            parts.add(map(spec, task, tokenizer));
        }
        return parts;
    }

    /**
     * The tasks on a pool; a failure is the first failing task's, in task order (as when they run in
     * turn). Every task has ended when this returns, so the caller may free the tokenizer.
     */
    private static List<PartResult> mapOnPool(PrepareSpec spec, List<PrepareTask> tasks, TextTokenizer tokenizer)
            throws IOException {
        ExecutorService pool = Workers.daemon(Math.min(spec.workers, tasks.size()), "prepare-map");
        try {
            List<Future<PartResult>> pending = new ArrayList<>();
            for (PrepareTask task : tasks) {
                pending.add(pool.submit(() -> map(spec, task, tokenizer)));
            }
            List<PartResult> parts = new ArrayList<>();
            for (Future<PartResult> part : pending) {
                parts.add(Workers.result(part, "preparing"));
            }
            return parts;
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
             RowReader reader = RowReader.open(task, List.of(spec.textColumn, spec.labelColumn))) {
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
        for (String column : List.of(spec.textColumn, spec.labelColumn)) {
            if (!columns.contains(column)) {
                throw new DatasetException("column '" + column + "' not found in " + file + "; columns are: "
                        + (columns.isEmpty() ? "(none: no line holds a JSON object)" : String.join(", ", columns)));
            }
        }
    }

    /**
     * The reduce: merges the map results of every task of {@code spec}'s inputs (in any order; each
     * file's ranges must all be there) and writes the dataset into {@code spec.outputDir}. Reads no
     * input file, except to checksum one that was read in ranges.
     */
    public PrepareSummary reduce(PrepareSpec spec, List<PartResult> parts) throws IOException {
        spec.validate();
        String trainName = inputName(spec.trainLocation, spec.trainFiles);
        List<SourceFile> sources = new ArrayList<>();
        List<Example> train = merge(Manifest.TRAIN, trainName, spec.trainFiles, parts, spec, sources, label -> null);
        List<String> labels = labelOrder(spec.labels, train, trainName);
        Map<String, Integer> label2id = new LinkedHashMap<>();
        labels.forEach(label -> label2id.put(label, label2id.size()));

        StratifiedSplit.Result split;
        Manifest.SplitMethod method;
        if (!spec.hasTestFiles()) {
            split = StratifiedSplit.split(train, labels, spec.testFraction, spec.seed);
            method = new Manifest.SplitMethod(Manifest.SplitMethod.STRATIFIED, spec.testFraction, spec.seed);
        } else {
            UnaryOperator<String> unseen = label -> label2id.containsKey(label) ? null
                    : "label '" + label + "' does not occur in the training input " + trainName;
            List<Example> test = merge(Manifest.TEST, inputName(spec.testLocation, spec.testFiles), spec.testFiles, parts,
                    spec, sources, unseen);
            split = new StratifiedSplit.Result(train, test);
            method = new Manifest.SplitMethod(Manifest.SplitMethod.FILES, null, spec.seed);
        }
        List<TextOverlap.Leak> leaks = TextOverlap.leaks(split.train(), split.test());
        if (!leaks.isEmpty()) {
            LOG.warnf("%d test rows have the exact text of a train row (leakage)%s; first: %s", leaks.size(),
                    spec.dropLeakedTestRows ? ", dropped from the test split" : "", leaks.get(0).test().location());
        }
        if (spec.dropLeakedTestRows && !leaks.isEmpty()) {
            split = new StratifiedSplit.Result(split.train(), dropLeaked(split.test(), leaks, sources));
        }
        return write(spec, sources, labels, label2id, method, split, TextOverlap.report(leaks, spec.dropLeakedTestRows));
    }

    /**
     * One input's examples in file order, from its files' map results: each file's ranges placed one
     * after the other, its account summed, then the decisions that need the training input
     * ({@code labelProblem}: why a label is refused, or null) and the checks that need the whole file.
     */
    private static List<Example> merge(String input, String inputName, List<InputFile> files, List<PartResult> parts,
            PrepareSpec spec, List<SourceFile> sources, UnaryOperator<String> labelProblem) throws IOException {
        List<Example> examples = new ArrayList<>();
        List<SourceFile> inputSources = new ArrayList<>();
        long texts = 0;
        long chars = 0;
        long tokens = 0;
        double seconds = 0;
        for (int i = 0; i < files.size(); i++) {
            InputFile file = files.get(i);
            SourceFile source = new SourceFile(file, input);
            inputSources.add(source);
            List<PartResult> ranges = rangesOf(input, i, file, parts);
            Set<String> columns = new LinkedHashSet<>();
            long offset = 0;
            for (PartResult range : ranges) {
                source.rowsRead += range.rowsRead;
                range.rejections(offset).forEach(source::reject);
                for (Example example : range.examples(offset)) {
                    String problem = labelProblem.apply(example.label());
                    if (problem != null) {
                        source.reject(example, problem);
                    } else if (example.textTokens() == 0) {
                        source.reject(example, NO_TOKENS);
                    } else {
                        source.accepted++;
                        examples.add(example);
                    }
                }
                offset += range.positions;
                columns.addAll(range.columns);
                texts += range.texts;
                chars += range.chars;
                tokens += range.tokens;
                seconds += range.seconds;
            }
            PartResult first = ranges.get(0);
            source.sha256 = first.sha256 != null ? first.sha256 : sha256(file.path());
            boolean onlyFile = files.size() == 1;
            if (first.emptyFile) {
                if (onlyFile) {
                    throw new DatasetException("dataset file " + file.location() + " is empty");
                }
                LOG.warnf("%s is empty; its input's other files are read", source.name());
            } else if (source.rowsRead == 0) {
                if (onlyFile) {
                    throw new DatasetException(source.name() + " holds no rows" + (first.header ? ", only a header" : ""));
                }
                LOG.warnf("%s holds no rows; its input's other files are read", source.name());
            } else if (!first.header) {
                // JSON Lines has no header: a column is missing only if no row has it
                requireColumns(source.name(), columns, spec);
            }
        }
        LOG.infof("%s: %d rows read, %d accepted, %d rejected; tokenized %d texts (%.1f M chars) into %d tokens"
                        + " in %.1f task-seconds (%.0f rows/s, %.0f tokens/s a task)", inputName,
                inputSources.stream().mapToLong(s -> s.rowsRead).sum(), examples.size(),
                inputSources.stream().mapToLong(s -> s.rejections().size()).sum(), texts, chars / 1e6, tokens, seconds,
                texts / Math.max(seconds, 1e-9), tokens / Math.max(seconds, 1e-9));
        sources.addAll(inputSources);
        if (inputSources.stream().allMatch(source -> source.rowsRead == 0)) {
            throw new DatasetException(inputName + " holds no rows");
        }
        if (examples.isEmpty()) {
            String first = inputSources.stream().flatMap(source -> source.rejections().stream()).limit(3)
                    .map(Rejection::toString).collect(Collectors.joining("; "));
            throw new DatasetException("no row of " + inputName + " was accepted ("
                    + inputSources.stream().mapToLong(s -> s.rowsRead).sum() + " read); first rejections: " + first);
        }
        return examples;
    }

    /** The map results of one file, in file order; refused unless they cover it from start to end once. */
    private static List<PartResult> rangesOf(String input, int fileIndex, InputFile file, List<PartResult> parts) {
        List<PartResult> ranges = parts.stream()
                .filter(part -> part.task.input().equals(input) && part.task.fileIndex() == fileIndex)
                .sorted(Comparator.comparingLong(part -> part.task.from()))
                .toList();
        long expected = 0;
        for (PartResult range : ranges) {
            if (!range.task.file().location().equals(file.location()) || range.task.from() != expected) {
                throw new DatasetException("the map results for " + file.location() + " do not cover it once from start to"
                        + " end (" + ranges.stream().map(r -> r.task.toString()).toList() + "); run the prepare again");
            }
            expected = range.task.to();
        }
        if (ranges.isEmpty() || expected != PrepareTask.WHOLE) {
            throw new DatasetException("no map result for " + (ranges.isEmpty() ? "" : "the end of ") + file.location()
                    + " (" + input + " file " + (fileIndex + 1) + "); its map task has not run or failed: run the prepare again");
        }
        return ranges;
    }

    /** Of a file's bytes as stored (compressed, if it is). */
    static String sha256(Path file) throws IOException {
        return Shards.sha256(file);
    }

    /** The explicit order if given; else numeric order when every label is an integer, else alphabetical. */
    private static List<String> labelOrder(List<String> explicit, List<Example> train, String trainName) {
        Set<String> found = new TreeSet<>();
        train.forEach(example -> found.add(example.label()));
        if (found.size() < 2) {
            throw new DatasetException(trainName + " has only the label '" + found.iterator().next() + "' among its "
                    + train.size() + " accepted rows; a classifier needs at least 2 labels");
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

    /** The test rows without the leaked ones, each of which becomes a rejection in its file's account. */
    private static List<Example> dropLeaked(List<Example> test, List<TextOverlap.Leak> leaks, List<SourceFile> sources) {
        Map<String, SourceFile> byLocation = new LinkedHashMap<>();
        sources.forEach(source -> byLocation.put(source.name(), source));
        Set<Example> leaked = Collections.newSetFromMap(new IdentityHashMap<>());
        for (TextOverlap.Leak leak : leaks) {
            leaked.add(leak.test());
            byLocation.get(leak.test().location().file()).drop(leak.test(),
                    "leaked: also in train at " + leak.train().location());
        }
        return test.stream().filter(row -> !leaked.contains(row)).toList();
    }

    private PrepareSummary write(PrepareSpec spec, List<SourceFile> sources, List<String> labels,
            Map<String, Integer> label2id, Manifest.SplitMethod method, StratifiedSplit.Result split,
            Manifest.Leakage leakage) throws IOException {
        long started = System.nanoTime();
        List<Rejection> rejections = sources.stream().flatMap(source -> source.rejections().stream()).toList();
        Path out = Files.createDirectories(spec.outputDir);
        Map<String, Manifest.SplitStats> splits = new LinkedHashMap<>();
        splits.put(Manifest.TRAIN, writeSplit(out, Manifest.TRAIN, split.train(), label2id, spec.maxShardBytes));
        splits.put(Manifest.TEST, writeSplit(out, Manifest.TEST, split.test(), label2id, spec.maxShardBytes));
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
        LOG.infof("prepared: %d rows read, %d accepted (train %d, test %d), %d rejected, %d leaked; shards, checksums and"
                        + " manifest written in %.1f s", summary.rowsRead(), summary.accepted(), split.train().size(),
                split.test().size(), summary.rejected(), leakage.rows(), (System.nanoTime() - started) / 1e9);
        return summary;
    }

    private static Manifest.SplitStats writeSplit(Path dir, String name, List<Example> rows, Map<String, Integer> label2id,
            long maxShardBytes) throws IOException {
        Map<String, Integer> perClass = new LinkedHashMap<>();
        label2id.keySet().forEach(label -> perClass.put(label, 0));
        rows.forEach(row -> perClass.merge(row.label(), 1, Integer::sum));
        int truncated = (int) rows.stream().filter(Example::truncated).count();
        int[] lengths = rows.stream().mapToInt(row -> row.tokens().length).toArray();
        int[] textLengths = rows.stream().mapToInt(Example::textTokens).toArray();
        List<Manifest.Shard> shards = Shards.write(dir, name, rows, label2id, maxShardBytes);
        return new Manifest.SplitStats(rows.size(), perClass, TextOverlap.duplicates(rows), shards,
                Manifest.TokenStats.of(lengths), Manifest.TokenStats.of(textLengths), truncated,
                rows.isEmpty() ? 0 : (double) truncated / rows.size());
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
