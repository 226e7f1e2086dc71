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
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
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
 * <p>Files are streamed: memory holds the kept token ids of every accepted row (4 bytes a token) plus
 * about 300 bytes a row (location, label, text key, preview), never a file's text.
 */
public final class DatasetPreparer {

    private static final Logger LOG = Logger.getLogger(DatasetPreparer.class);
    private static final long PROGRESS_NANOS = 10_000_000_000L;
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]+");
    private static final ObjectMapper JSON_LINE = new ObjectMapper();

    private final Clock clock;

    public DatasetPreparer() {
        this(Clock.systemUTC());
    }

    /** {@code clock} stamps {@code created_at}; a fixed clock makes runs byte-for-byte repeatable. */
    public DatasetPreparer(Clock clock) {
        this.clock = clock;
    }

    public PrepareSummary prepare(PrepareSpec spec) throws IOException {
        spec.validate();
        TruncationSide side = TruncationSide.parse(spec.truncationSide);
        try (TextTokenizer tokenizer = loadTokenizer(spec)) {
            List<SourceFile> sources = new ArrayList<>();
            UnaryOperator<String> notListed = label -> "label '" + label + "' is not in the labels list " + spec.labels;
            Set<String> explicitLabels = spec.labels == null ? null : new HashSet<>(spec.labels);
            String trainName = inputName(spec.trainLocation, spec.trainFiles);
            List<Example> train = readInput(Manifest.TRAIN, trainName, spec.trainFiles,
                    new RowValidator(spec.textColumn, spec.labelColumn, explicitLabels, notListed), spec, tokenizer, side, sources);
            List<String> labels = labelOrder(spec.labels, train, trainName);
            Map<String, Integer> label2id = new LinkedHashMap<>();
            labels.forEach(label -> label2id.put(label, label2id.size()));

            StratifiedSplit.Result split;
            Manifest.SplitMethod method;
            if (!spec.hasTestFiles()) {
                split = StratifiedSplit.split(train, labels, spec.testFraction, spec.seed);
                method = new Manifest.SplitMethod(Manifest.SplitMethod.STRATIFIED, spec.testFraction, spec.seed);
            } else {
                UnaryOperator<String> unseen = spec.labels != null ? notListed
                        : label -> "label '" + label + "' does not occur in the training input " + trainName;
                List<Example> test = readInput(Manifest.TEST, inputName(spec.testLocation, spec.testFiles), spec.testFiles,
                        new RowValidator(spec.textColumn, spec.labelColumn, label2id.keySet(), unseen), spec, tokenizer, side,
                        sources);
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
            return write(spec, tokenizer, sources, labels, label2id, method, split,
                    TextOverlap.report(leaks, spec.dropLeakedTestRows));
        }
    }

    /** The tokenizer; an error names it by the location the user gave, not by a downloaded copy. */
    private static TextTokenizer loadTokenizer(PrepareSpec spec) throws IOException {
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
     * Reads every file of one input, validating rows as they come and tokenizing the accepted ones
     * alongside; rejects go to their file's account. Returns the input's examples in file order.
     */
    private static List<Example> readInput(String input, String inputName, List<InputFile> files, RowValidator validator,
            PrepareSpec spec, TextTokenizer tokenizer, TruncationSide side, List<SourceFile> sources) throws IOException {
        long started = System.nanoTime();
        List<SourceFile> inputSources = new ArrayList<>();
        List<Example> examples;
        try (ChunkTokenizer chunks = new ChunkTokenizer(tokenizer, spec.maxLength, side)) {
            for (InputFile file : files) {
                SourceFile source = new SourceFile(file, input);
                inputSources.add(source);
                readFile(source, validator, spec, chunks, files.size() == 1);
            }
            examples = chunks.finish();
            double seconds = Math.max((System.nanoTime() - started) / 1e9, 1e-9);
            LOG.infof("%s: %d rows read, %d accepted, %d rejected; tokenized %d texts (%.1f M chars) into %d tokens"
                            + " in %.1f s (%.0f rows/s, %.0f tokens/s)", inputName,
                    inputSources.stream().mapToLong(s -> s.rowsRead).sum(), examples.size(),
                    inputSources.stream().mapToLong(s -> s.rejections().size()).sum(), chunks.texts, chunks.chars / 1e6,
                    chunks.tokens, seconds, chunks.texts / seconds, chunks.tokens / seconds);
        }
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

    private static void readFile(SourceFile source, RowValidator validator, PrepareSpec spec, ChunkTokenizer chunks,
            boolean onlyFile) throws IOException {
        if (!onlyFile && Files.isRegularFile(source.file.path()) && Files.size(source.file.path()) == 0) {
            LOG.warnf("%s is empty; its input's other files are read", source.name());
            return;
        }
        long started = System.nanoTime();
        long lastReport = started;
        try (RowReader reader = RowReader.open(source.file, List.of(spec.textColumn, spec.labelColumn))) {
            Optional<List<String>> header = reader.header();
            header.ifPresent(columns -> requireColumns(source, columns, spec));
            for (SourceRow row = reader.next(); row != null; row = reader.next()) {
                source.rowsRead++;
                RowValidator.Verdict verdict = validator.check(row);
                if (verdict instanceof RowValidator.Accepted accepted) {
                    chunks.add(source, row.location(), accepted.text(), accepted.label());
                } else if (verdict instanceof RowValidator.Rejected rejected) {
                    source.reject(row.location(), rejected.reason(), rejected.text());
                }
                if ((source.rowsRead & 1023) == 0 && System.nanoTime() - lastReport > PROGRESS_NANOS) {
                    lastReport = System.nanoTime();
                    LOG.infof("%s: %d rows read (%.0f rows/s), %d rejected so far", source.name(), source.rowsRead,
                            source.rowsRead / ((lastReport - started) / 1e9), source.rejections().size());
                }
            }
            if (source.rowsRead == 0) {
                if (onlyFile) {
                    throw new DatasetException(source.name() + " holds no rows" + (header.isPresent() ? ", only a header" : ""));
                }
                LOG.warnf("%s holds no rows; its input's other files are read", source.name());
                return;
            }
            if (header.isEmpty()) {
                // JSON Lines has no header: a column is missing only if no row has it
                requireColumns(source, reader.columns(), spec);
            }
        }
    }

    private static void requireColumns(SourceFile source, Collection<String> columns, PrepareSpec spec) {
        for (String column : List.of(spec.textColumn, spec.labelColumn)) {
            if (!columns.contains(column)) {
                throw new DatasetException("column '" + column + "' not found in " + source.name() + "; columns are: "
                        + (columns.isEmpty() ? "(none: no line holds a JSON object)" : String.join(", ", columns)));
            }
        }
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

    private PrepareSummary write(PrepareSpec spec, TextTokenizer tokenizer, List<SourceFile> sources, List<String> labels,
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
                new Manifest.TokenizerInfo(tokenizer.sha256(),
                        spec.tokenizerLocation != null ? spec.tokenizerLocation : spec.tokenizer.toString(),
                        TokenizerFingerprint.of(tokenizer.file())),
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
