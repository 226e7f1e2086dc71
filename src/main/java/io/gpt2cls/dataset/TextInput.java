package io.gpt2cls.dataset;

import java.io.IOException;
import java.io.InputStream;
import java.io.Reader;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;

/**
 * A text file's bytes decoded as UTF-8, for the JSON Lines and CSV readers. Bytes that are not
 * UTF-8 do not stop the file: each malformed sequence becomes U+FFFD and the line it was on is
 * remembered, so the reader rejects just the row on that line ({@link #firstMalformedLine}). A
 * leading byte order mark (as spreadsheet programs write) is dropped.
 *
 * <p>Lines are counted by {@code '\n'}; a {@code "\r\n"} ending counts once.
 */
final class TextInput extends Reader {

    /** Thrown by {@link #read} when more than the limit set by {@link #limitCharsPerRow} passed without {@link #rowEnded}. */
    static final class RowTooLong extends IOException {
        RowTooLong(long limit) {
            super("more than " + limit + " characters without the row ending");
        }
    }

    private static final int BUFFER = 64 * 1024;

    private final InputStream in;
    private final CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    private final ByteBuffer bytes = ByteBuffer.allocate(BUFFER).flip();
    /** Decoded, not yet delivered: between position and limit. */
    private final CharBuffer chars = CharBuffer.allocate(BUFFER).flip();
    private boolean inputEnded;
    private boolean decoderFlushed;
    /** The line that the decoder's next output char is on. */
    private long decodedLine = 1;
    /** Lines with malformed bytes, ascending; those before the row being read are dropped as rows are checked. */
    private final ArrayDeque<Long> malformedLines = new ArrayDeque<>();
    private boolean atStart = true;
    private boolean lineOpen;
    private final Reader currentLine = new Reader() {
        @Override
        public int read(char[] target, int offset, int length) throws IOException {
            return readInLine(target, offset, length);
        }

        @Override
        public void close() {
            // the line belongs to the file, which its reader closes
        }
    };
    private long rowChars;
    private long rowCharLimit = Long.MAX_VALUE;
    /** Where skipped line ends go; allocated on the first skip (only lines that stopped a parser early). */
    private char[] discard;

    TextInput(InputStream in) {
        this.in = in;
    }

    /** Chars delivered from now on count towards one row until {@link #rowEnded()}; past {@code limit}, reads fail with {@link RowTooLong}. */
    void limitCharsPerRow(long limit) {
        rowCharLimit = limit;
    }

    void rowEnded() {
        rowChars = 0;
    }

    /**
     * The first line in {@code [firstLine, lastLine]} that held bytes that are not UTF-8, or -1.
     * Rows are checked in file order: lines before {@code firstLine} are forgotten.
     */
    long firstMalformedLine(long firstLine, long lastLine) {
        while (!malformedLines.isEmpty() && malformedLines.peekFirst() < firstLine) {
            malformedLines.pollFirst();
        }
        Long first = malformedLines.peekFirst();
        return first != null && first <= lastLine ? first : -1;
    }

    @Override
    public int read(char[] target, int offset, int length) throws IOException {
        if (length == 0) {
            return 0;
        }
        if (!chars.hasRemaining() && !fill()) {
            return -1;
        }
        int n = Math.min(length, chars.remaining());
        chars.get(target, offset, n);
        rowChars += n;
        if (rowChars > rowCharLimit) {
            throw new RowTooLong(rowCharLimit);
        }
        return n;
    }

    /**
     * Starts the next line, to be read through {@link #line()}; false at the end of the input.
     * Whatever the previous line's reader left unread is skipped first ({@link #finishLine()}).
     */
    boolean nextLine() throws IOException {
        finishLine();
        lineOpen = chars.hasRemaining() || fill();
        return lineOpen;
    }

    /** The current line as a reader that ends at its line break (not included); closing it does nothing. */
    Reader line() {
        return currentLine;
    }

    /** Skips what is left of the current line, up to and including its line break. */
    void finishLine() throws IOException {
        if (!lineOpen) {
            return;
        }
        if (discard == null) {
            discard = new char[BUFFER];
        }
        while (readInLine(discard, 0, discard.length) >= 0) {
            // discard: a row's reader stops at its first error, the line goes on to its break
        }
    }

    /** Copies chars of the current line into {@code target}; -1 once its line break (or the input) is reached. */
    private int readInLine(char[] target, int offset, int length) throws IOException {
        if (!lineOpen) {
            return -1;
        }
        if (length == 0) {
            return 0;
        }
        if (!chars.hasRemaining() && !fill()) {
            lineOpen = false;
            return -1;
        }
        int start = chars.position();
        int end = Math.min(chars.limit(), start + length);
        char[] array = chars.array();
        for (int i = start; i < end; i++) {
            if (array[i] == '\n') {
                int n = i - start;
                chars.get(target, offset, n);
                chars.get(); // the break
                lineOpen = false;
                return n == 0 ? -1 : n;
            }
        }
        int n = end - start;
        chars.get(target, offset, n);
        return n;
    }

    /** Decodes the next block into {@code chars}; false at the end of the input. */
    private boolean fill() throws IOException {
        chars.clear();
        try {
            while (chars.position() == 0 && !decoderFlushed) {
                if (!bytes.hasRemaining() && !inputEnded) {
                    moreBytes();
                }
                int before = chars.position();
                CoderResult result = inputEnded && !bytes.hasRemaining() ? flush() : decoder.decode(bytes, chars, inputEnded);
                countLines(before, chars.position());
                if (result.isError()) {
                    if (!chars.hasRemaining()) {
                        break; // no room for the replacement: the next fill meets the same bytes again
                    }
                    malformedLines.addLast(decodedLine);
                    bytes.position(bytes.position() + result.length());
                    chars.put('\uFFFD');
                } else if (result.isUnderflow() && bytes.hasRemaining() && !inputEnded) {
                    moreBytes(); // a sequence cut by the end of the block: keep it and read on
                }
            }
        } finally {
            chars.flip();
        }
        if (atStart && chars.hasRemaining()) {
            atStart = false;
            if (chars.get(chars.position()) == '\uFEFF') {
                chars.get();
                return chars.hasRemaining() || fill();
            }
        }
        return chars.hasRemaining();
    }

    private CoderResult flush() {
        CoderResult result = decoder.decode(bytes, chars, true);
        if (result.isUnderflow()) {
            result = decoder.flush(chars);
            decoderFlushed = result.isUnderflow();
        }
        return result;
    }

    /** Appends what the stream gives to the unread bytes. */
    private void moreBytes() throws IOException {
        bytes.compact();
        int read = in.read(bytes.array(), bytes.position(), bytes.remaining());
        if (read < 0) {
            inputEnded = true;
        } else {
            bytes.position(bytes.position() + read);
        }
        bytes.flip();
    }

    private void countLines(int from, int to) {
        char[] array = chars.array();
        for (int i = from; i < to; i++) {
            if (array[i] == '\n') {
                decodedLine++;
            }
        }
    }

    @Override
    public void close() throws IOException {
        in.close();
    }
}
