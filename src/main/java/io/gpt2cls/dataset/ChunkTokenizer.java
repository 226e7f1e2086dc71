package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;

import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TruncationSide;

/**
 * Tokenizes accepted rows in chunks while the reading thread goes on parsing and validating the next
 * rows. Each chunk is one batch call into the native tokenizer, which spreads its texts over all cores;
 * two chunks in flight keep the cores busy while a chunk's longest texts finish. Results are
 * collected in row order, on the caller's thread.
 */
final class ChunkTokenizer implements AutoCloseable {

    /** Texts per batch: enough to keep every core busy, few enough to bound memory. */
    static final int CHUNK_ROWS = 1024;
    /** Characters per batch, so that a chunk of long texts stays small too (texts are at most 1M chars). */
    static final long CHUNK_CHARS = 4_000_000;
    private static final int IN_FLIGHT = 2;

    private record Row(RowLocation location, String text, String label) {}

    private final TextTokenizer tokenizer;
    private final int maxLength;
    private final TruncationSide side;
    private final ExecutorService workers = Workers.daemon(IN_FLIGHT, "tokenize");
    private final Deque<Future<List<Example>>> inFlight = new ArrayDeque<>();
    private List<Row> chunk = new ArrayList<>();
    private long chunkChars;
    private final List<Example> examples = new ArrayList<>();
    long texts;
    long chars;
    long tokens;

    ChunkTokenizer(TextTokenizer tokenizer, int maxLength, TruncationSide side) {
        this.tokenizer = tokenizer;
        this.maxLength = maxLength;
        this.side = side;
    }

    /** Queues an accepted row; it becomes an example (one without tokens if its text has none). */
    void add(RowLocation location, String text, String label) {
        chunk.add(new Row(location, text, label));
        chunkChars += text.length();
        chars += text.length();
        if (chunk.size() >= CHUNK_ROWS || chunkChars >= CHUNK_CHARS) {
            submit();
        }
    }

    /** Every example queued so far, in the order the rows were added. */
    List<Example> finish() {
        submit();
        while (!inFlight.isEmpty()) {
            collect(inFlight.poll());
        }
        return examples;
    }

    private void submit() {
        if (chunk.isEmpty()) {
            return;
        }
        List<Row> rows = chunk;
        inFlight.add(workers.submit(() -> tokenize(rows)));
        chunk = new ArrayList<>();
        chunkChars = 0;
        while (inFlight.size() > IN_FLIGHT) {
            collect(inFlight.poll());
        }
    }

    /** Runs on a worker: the native call, then each text's key and preview, off the reading thread. */
    private List<Example> tokenize(List<Row> rows) {
        List<int[]> ids = tokenizer.encodeAll(rows.stream().map(Row::text).toList());
        MessageDigest digest = TextKey.sha256();
        List<Example> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            int[] textIds = ids.get(i);
            out.add(new Example(row.location(), row.label(), side.truncate(textIds, maxLength), textIds.length,
                    TextKey.of(row.text(), digest), Rejection.preview(row.text())));
        }
        return out;
    }

    private void collect(Future<List<Example>> pending) {
        List<Example> done;
        try {
            done = Workers.result(pending, "tokenizing");
        } catch (IOException e) {
            throw new UncheckedIOException(e); // the native call throws no IOException
        }
        texts += done.size();
        for (Example example : done) {
            examples.add(example);
            tokens += example.textTokens();
        }
    }

    /** Waits for the chunks in the native call: the caller frees the tokenizer next ({@link Workers#stop}). */
    @Override
    public void close() {
        Workers.stop(workers);
    }
}
