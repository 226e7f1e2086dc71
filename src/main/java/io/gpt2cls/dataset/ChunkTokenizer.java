package io.gpt2cls.dataset;

import java.security.MessageDigest;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import io.gpt2cls.tokenizer.TextTokenizer;
import io.gpt2cls.tokenizer.TruncationSide;

/**
 * Tokenizes accepted rows in chunks while the reading thread goes on parsing and validating the next
 * rows. Each chunk is one batch call into the native tokenizer, which spreads its texts over all cores;
 * two chunks in flight keep the cores busy while a chunk's longest texts finish. Results are applied
 * in row order, on the caller's thread, to the rows' accounts.
 */
final class ChunkTokenizer implements AutoCloseable {

    /** Texts per batch: enough to keep every core busy, few enough to bound memory. */
    static final int CHUNK_ROWS = 1024;
    /** Characters per batch, so that a chunk of long texts stays small too (texts are at most 1M chars). */
    static final long CHUNK_CHARS = 4_000_000;
    private static final int IN_FLIGHT = 2;
    /** Longest wait in {@link #close} for a chunk in the native call to finish. */
    private static final long STOP_WAIT_MINUTES = 10;

    private record Row(SourceFile source, RowLocation location, String text, String label) {}

    /** A row's outcome: its example, or (no tokens) none. */
    private record Tokenized(Row row, Example example) {}

    private final TextTokenizer tokenizer;
    private final int maxLength;
    private final TruncationSide side;
    private final ExecutorService workers = Executors.newFixedThreadPool(IN_FLIGHT, task -> {
        Thread thread = new Thread(task, "tokenize");
        thread.setDaemon(true);
        return thread;
    });
    private final Deque<Future<List<Tokenized>>> inFlight = new ArrayDeque<>();
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

    /** Queues an accepted row; it becomes an example, or a rejection of {@code source} if it has no tokens. */
    void add(SourceFile source, RowLocation location, String text, String label) {
        chunk.add(new Row(source, location, text, label));
        chunkChars += text.length();
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
    private List<Tokenized> tokenize(List<Row> rows) {
        List<int[]> ids = tokenizer.encodeAll(rows.stream().map(Row::text).toList());
        MessageDigest digest = TextKey.sha256();
        List<Tokenized> out = new ArrayList<>(rows.size());
        for (int i = 0; i < rows.size(); i++) {
            Row row = rows.get(i);
            int[] textIds = ids.get(i);
            Example example = textIds.length == 0 ? null : new Example(row.location(), row.label(),
                    side.truncate(textIds, maxLength), textIds.length, TextKey.of(row.text(), digest),
                    Rejection.preview(row.text()));
            out.add(new Tokenized(row, example));
        }
        return out;
    }

    private void collect(Future<List<Tokenized>> pending) {
        List<Tokenized> done;
        try {
            done = pending.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while tokenizing", e);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof RuntimeException runtime) {
                throw runtime;
            }
            throw new IllegalStateException("tokenizing failed", e.getCause());
        }
        for (Tokenized result : done) {
            Row row = result.row();
            texts++;
            chars += row.text().length();
            if (result.example() == null) {
                row.source().reject(row.location(), "text has no tokens under this tokenizer", row.text());
                continue;
            }
            row.source().accepted++;
            examples.add(result.example());
            tokens += result.example().textTokens();
        }
    }

    /**
     * Drops the chunks not started and waits for those in the native call, which cannot be
     * interrupted: the caller frees the tokenizer next, and a worker still encoding with a freed
     * tokenizer aborts the JVM. A chunk holds at most {@link #CHUNK_CHARS} characters (seconds of work),
     * so the wait ends; {@link #STOP_WAIT_MINUTES} bounds it against a hung native call.
     */
    @Override
    public void close() {
        workers.shutdownNow();
        boolean interrupted = false;
        long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(STOP_WAIT_MINUTES);
        try {
            while (!workers.isTerminated()) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException("the tokenizer's workers did not stop within " + STOP_WAIT_MINUTES
                            + " minutes of a failure");
                }
                try {
                    workers.awaitTermination(left, TimeUnit.NANOSECONDS);
                } catch (InterruptedException e) {
                    interrupted = true; // the wait must finish anyway: the tokenizer is freed after it
                }
            }
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
