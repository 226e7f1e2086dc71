package io.gpt2cls.dataset;

import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.util.List;
import java.util.Locale;
import java.util.regex.PatternSyntaxException;

/**
 * Which files an input names when it is not a single file: a directory or prefix (its dataset files)
 * or a pattern in the last segment ({@code s3://bucket/imdb/train-*.parquet}, {@code data/part-*.jsonl.gz};
 * glob syntax: {@code *}, {@code ?}, {@code [abc]}, {@code {a,b}}). The caller lists the directory; this
 * picks the names, so the rule is the same for every store.
 */
public final class InputFiles {

    private static final List<String> DATA_EXTENSIONS = List.of(".jsonl", ".json", ".csv", ".tsv", ".parquet");

    private InputFiles() {}

    /** Whether the last segment of {@code location} is a pattern. */
    public static boolean isPattern(String location) {
        String name = lastSegment(location);
        return name.chars().anyMatch(c -> c == '*' || c == '?' || c == '[' || c == '{');
    }

    /** The directory or prefix a pattern's names are listed from: everything before the last '/', or "." for none. */
    public static String directoryOf(String pattern) {
        int slash = pattern.lastIndexOf('/');
        return slash < 0 ? "." : pattern.substring(0, slash);
    }

    /**
     * The names (sorted) among those listed in a directory that {@code given} selects: those matching
     * its pattern, or for a plain directory every dataset file (hidden and {@code _}-prefixed names such
     * as Spark's {@code _SUCCESS} left out). None selected is an error naming what is there.
     */
    private static PathMatcher matcher(String glob) {
        try {
            return FileSystems.getDefault().getPathMatcher("glob:" + glob);
        } catch (PatternSyntaxException e) {
            throw new DatasetException("'" + glob + "' is not a file pattern (" + e.getDescription() + " at character "
                    + (e.getIndex() + 1) + "); patterns use * and ?, [abc] and {a,b}, e.g. part-*.parquet");
        }
    }

    public static List<String> select(String given, List<String> names) {
        boolean pattern = isPattern(given);
        PathMatcher matcher = pattern ? matcher(lastSegment(given)) : null;
        List<String> selected = names.stream()
                .filter(name -> pattern ? matcher.matches(Path.of(name)) : isDataFile(name))
                .sorted()
                .toList();
        if (selected.isEmpty()) {
            String listed = names.isEmpty() ? "it is empty" : "it holds: " + String.join(", ", names.stream().sorted().limit(20).toList())
                    + (names.size() > 20 ? ", ..." : "");
            throw new DatasetException(pattern
                    ? "no file in " + directoryOf(given) + " matches " + lastSegment(given) + "; " + listed
                    : "no dataset file (.jsonl, .json, .csv, .tsv, .parquet, or those text formats .gz) in " + given + "; " + listed);
        }
        return selected;
    }

    private static boolean isDataFile(String name) {
        if (name.startsWith(".") || name.startsWith("_")) {
            return false;
        }
        String lower = name.toLowerCase(Locale.ROOT);
        String format = lower.endsWith(".gz") ? lower.substring(0, lower.length() - ".gz".length()) : lower;
        return DATA_EXTENSIONS.stream().anyMatch(format::endsWith);
    }

    private static String lastSegment(String location) {
        return location.substring(location.lastIndexOf('/') + 1);
    }
}
