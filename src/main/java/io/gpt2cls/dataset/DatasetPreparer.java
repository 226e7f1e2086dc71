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
import java.util.Arrays;
import java.util.Collection;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TruncationSide;

/**
 * The {@code prepare} stage: reads dataset rows, keeps the valid ones and reports the rest,
 * splits train from test, tokenizes, and writes shards, {@code rejected.jsonl} and
 * {@code manifest.json} into the output directory, all at once or not at all.
 */
public final class DatasetPreparer {

    private static final Logger LOG = Logger.getLogger(DatasetPreparer.class);
    /** Texts per call to the tokenizer: enough to keep its native threads busy, few enough to bound memory. */
    static final int TOKENIZE_CHUNK = 1024;
    private static final long PROGRESS_ROWS = 100_000;
    private static final Pattern INTEGER = Pattern.compile("-?[0-9]+");
    private static final ObjectMapper JSON_LINE = new ObjectMapper();

    /** A valid row waiting to be tokenized. */
    private record Candidate(RowLocation location, String text, String label) {}

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
        try (TextTokenizer tokenizer = TextTokenizer.load(spec.tokenizer)) {
            UnaryOperator<String> notListed = label -> "label '" + label + "' is not in the labels list " + spec.labels;
            Set<String> explicitLabels = spec.labels == null ? null : new HashSet<>(spec.labels);
            SourceFile train = new SourceFile(spec.trainFile);
            tokenize(read(train, new RowValidator(spec.textColumn, spec.labelColumn, explicitLabels, notListed), spec),
                    train, tokenizer, spec.maxLength, TruncationSide.parse(spec.truncationSide));
            requireAccepted(train);
            List<String> labels = labelOrder(spec.labels, train);
            Map<String, Integer> label2id = new LinkedHashMap<>();
            labels.forEach(label -> label2id.put(label, label2id.size()));

            if (spec.testFile == null) {
                StratifiedSplit.Result split = StratifiedSplit.split(train.examples, labels, spec.testFraction, spec.seed);
                Manifest.SplitMethod method = new Manifest.SplitMethod(Manifest.SplitMethod.STRATIFIED, spec.testFraction, spec.seed);
                return write(spec, tokenizer, List.of(train), labels, label2id, method, split);
            }
            UnaryOperator<String> unseen = spec.labels != null ? notListed
                    : label -> "label '" + label + "' does not occur in the training file " + train.name;
            SourceFile test = new SourceFile(spec.testFile);
            tokenize(read(test, new RowValidator(spec.textColumn, spec.labelColumn, label2id.keySet(), unseen), spec),
                    test, tokenizer, spec.maxLength, TruncationSide.parse(spec.truncationSide));
            requireAccepted(test);
            Manifest.SplitMethod method = new Manifest.SplitMethod(Manifest.SplitMethod.FILES, null, spec.seed);
            return write(spec, tokenizer, List.of(train, test), labels, label2id, method,
                    new StratifiedSplit.Result(train.examples, test.examples));
        }
    }

    /** Reads and validates every row of {@code source}; rejects go to its account, the rest are returned. */
    private static List<Candidate> read(SourceFile source, RowValidator validator, PrepareSpec spec) throws IOException {
        List<Candidate> candidates = new ArrayList<>();
        try (RowReader reader = RowReader.open(source.path)) {
            Optional<List<String>> header = reader.header();
            header.ifPresent(columns -> requireColumns(source, columns, spec));
            for (SourceRow row = reader.next(); row != null; row = reader.next()) {
                source.rowsRead++;
                RowValidator.Verdict verdict = validator.check(row);
                if (verdict instanceof RowValidator.Accepted accepted) {
                    candidates.add(new Candidate(row.location(), accepted.text(), accepted.label()));
                } else if (verdict instanceof RowValidator.Rejected rejected) {
                    source.reject(row.location(), rejected.reason(), rejected.text());
                }
                if (source.rowsRead % PROGRESS_ROWS == 0) {
                    LOG.infof("%s: %d rows read, %d rejected so far", source.name, source.rowsRead,
                            source.rowsRead - candidates.size());
                }
            }
            if (source.rowsRead == 0) {
                throw new DatasetException(source.name + " holds no rows" + (header.isPresent() ? ", only a header" : ""));
            }
            if (header.isEmpty()) {
                // JSON Lines has no header: a column is missing only if no row has it
                requireColumns(source, reader.columns(), spec);
            }
        }
        LOG.infof("%s: read %d rows, %d valid, %d rejected", source.name, source.rowsRead, candidates.size(),
                source.rowsRead - candidates.size());
        return candidates;
    }

    private static void requireColumns(SourceFile source, Collection<String> columns, PrepareSpec spec) {
        for (String column : List.of(spec.textColumn, spec.labelColumn)) {
            if (!columns.contains(column)) {
                throw new DatasetException("column '" + column + "' not found in " + source.name + "; columns are: "
                        + (columns.isEmpty() ? "(none: no line holds a JSON object)" : String.join(", ", columns)));
            }
        }
    }

    /** Tokenizes in chunks; a text with no tokens is rejected, the rest become examples cut to {@code maxLength}. */
    private static void tokenize(List<Candidate> candidates, SourceFile source, TextTokenizer tokenizer, int maxLength,
                                 TruncationSide side) {
        long started = System.nanoTime();
        long tokens = 0;
        for (int start = 0; start < candidates.size(); start += TOKENIZE_CHUNK) {
            List<Candidate> chunk = candidates.subList(start, Math.min(start + TOKENIZE_CHUNK, candidates.size()));
            List<int[]> ids = tokenizer.encodeAll(chunk.stream().map(Candidate::text).toList());
            for (int i = 0; i < chunk.size(); i++) {
                Candidate candidate = chunk.get(i);
                int[] textIds = ids.get(i);
                if (textIds.length == 0) {
                    source.reject(candidate.location(), "text has no tokens under this tokenizer", candidate.text());
                    continue;
                }
                boolean truncated = textIds.length > maxLength;
                int[] kept = side.truncate(textIds, maxLength);
                source.examples.add(new Example(candidate.location(), candidate.label(), kept, truncated));
                tokens += kept.length;
            }
        }
        double seconds = Math.max((System.nanoTime() - started) / 1e9, 1e-9);
        LOG.infof("%s: tokenized %d texts into %d tokens in %.1f s (%.0f tokens/s)", source.name, candidates.size(),
                tokens, seconds, tokens / seconds);
    }

    private static void requireAccepted(SourceFile source) {
        if (source.examples.isEmpty()) {
            String first = source.rejections().stream().limit(3).map(Rejection::toString).collect(Collectors.joining("; "));
            throw new DatasetException("no row of " + source.name + " was accepted (" + source.rowsRead
                    + " read); first rejections: " + first);
        }
    }

    /** The explicit order if given; else numeric order when every label is an integer, else alphabetical. */
    private static List<String> labelOrder(List<String> explicit, SourceFile train) {
        Set<String> found = new TreeSet<>();
        train.examples.forEach(example -> found.add(example.label()));
        if (found.size() < 2) {
            throw new DatasetException(train.name + " has only the label '" + found.iterator().next() + "' among its "
                    + train.examples.size() + " accepted rows; a classifier needs at least 2 labels");
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

    private PrepareSummary write(PrepareSpec spec, TextTokenizer tokenizer, List<SourceFile> sources, List<String> labels,
            Map<String, Integer> label2id, Manifest.SplitMethod method, StratifiedSplit.Result split) throws IOException {
        List<Rejection> rejections = sources.stream().flatMap(source -> source.rejections().stream()).toList();
        Path out = Files.createDirectories(spec.outputDir);
        Map<String, Manifest.SplitStats> splits = new LinkedHashMap<>();
        splits.put(Manifest.TRAIN, writeSplit(out, Manifest.TRAIN, split.train(), label2id, spec.shardRows));
        splits.put(Manifest.TEST, writeSplit(out, Manifest.TEST, split.test(), label2id, spec.shardRows));
        writeRejections(out.resolve(Manifest.REJECTED_FILE), rejections);
        List<Manifest.Source> manifestSources = new ArrayList<>();
        for (SourceFile source : sources) {
            manifestSources.add(source.toManifest());
        }
        Manifest manifest = new Manifest(
                Manifest.FORMAT,
                Instant.now(clock).truncatedTo(ChronoUnit.SECONDS).toString(),
                new Manifest.TokenizerInfo(tokenizer.sha256(), tokenizer.file().toString()),
                spec.maxLength,
                spec.truncationSide,
                spec.textColumn,
                spec.labelColumn,
                labels,
                label2id,
                method,
                manifestSources,
                splits,
                new Manifest.RejectedReport(rejections.size(), Manifest.REJECTED_FILE));
        manifest.write(out);
        PrepareSummary summary = PrepareSummary.of(manifest, rejections);
        LOG.infof("prepared: %d rows read, %d accepted (train %d, test %d), %d rejected",
                summary.rowsRead(), summary.accepted(), split.train().size(), split.test().size(), summary.rejected());
        return summary;
    }

    private static Manifest.SplitStats writeSplit(Path dir, String name, List<Example> rows, Map<String, Integer> label2id,
            int shardRows) throws IOException {
        Map<String, Integer> perClass = new LinkedHashMap<>();
        label2id.keySet().forEach(label -> perClass.put(label, 0));
        rows.forEach(row -> perClass.merge(row.label(), 1, Integer::sum));
        int truncated = (int) rows.stream().filter(Example::truncated).count();
        int[] lengths = rows.stream().mapToInt(row -> row.tokens().length).toArray();
        List<String> shards = Shards.write(dir, name, rows, label2id, shardRows);
        return new Manifest.SplitStats(rows.size(), perClass, shards, Manifest.TokenStats.of(lengths), truncated);
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
