package io.gpt2cls.hub;

import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A model on the Hugging Face Hub as a user names it: {@code openai-community/gpt2}, the legacy
 * {@code gpt2}, optionally with {@code @revision} (a branch, tag or commit; {@code main} by default).
 *
 * @param id the repository id as given (the Hub may answer with another, canonical one: {@code gpt2}
 *     is {@code openai-community/gpt2})
 * @param revision the branch, tag or commit asked for
 */
public record HubModelId(String id, String revision) {

    public static final String DEFAULT_REVISION = "main";

    /** The Hub's repository names: an optional namespace and a name, of letters, digits, '-', '_' and '.'. */
    private static final Pattern ID = Pattern.compile("((?:[A-Za-z0-9][A-Za-z0-9_.-]{0,95}/)?[A-Za-z0-9][A-Za-z0-9_.-]{0,95})(?:@(\\S+))?");
    private static final Pattern COMMIT = Pattern.compile("[0-9a-f]{40}");

    /**
     * The Hub model {@code text} names, or empty when it has the form of a location instead: a scheme
     * ({@code s3://}, {@code file:}), an absolute or dot path, more than one '/', or a file name ending
     * in {@code .json}. Whether a local directory of that name exists is the caller's question.
     */
    public static Optional<HubModelId> parse(String text) {
        if (text == null) {
            return Optional.empty();
        }
        String trimmed = text.strip();
        Matcher m = ID.matcher(trimmed);
        if (!m.matches() || trimmed.contains(":") || m.group(1).endsWith(".json") || m.group(1).contains("..")
                || m.group(1).endsWith(".") || m.group(1).endsWith("-")) {
            return Optional.empty();
        }
        return Optional.of(new HubModelId(m.group(1), m.group(2) == null ? DEFAULT_REVISION : m.group(2)));
    }

    /** Whether the revision is a full commit hash, which names one revision forever. */
    public boolean isCommit() {
        return COMMIT.matcher(revision).matches();
    }

    /** The repository name without its namespace. */
    public String name() {
        return id.substring(id.lastIndexOf('/') + 1);
    }

    @Override
    public String toString() {
        return DEFAULT_REVISION.equals(revision) ? id : id + "@" + revision;
    }
}
