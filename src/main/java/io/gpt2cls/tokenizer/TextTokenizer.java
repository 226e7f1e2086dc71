package io.gpt2cls.tokenizer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;

import io.gpt2cls.runtime.NativeRuntime;

/**
 * A Hugging Face {@code tokenizer.json} loaded through DJL's native tokenizers binding.
 *
 * <p>Encodes without special tokens, padding or truncation by the library: truncation to a
 * model's length happens here, on the right, and padding is the batch builder's job (dynamic
 * padding). The owner closes it; it frees the native tokenizer.
 */
public final class TextTokenizer implements AutoCloseable {

    public static final String TOKENIZER_FILE = "tokenizer.json";

    private final HuggingFaceTokenizer tokenizer;
    private final Path file;
    /** The file's bytes as loaded, kept until {@link #sha256()} is first asked for. */
    private byte[] bytes;
    private String sha256;

    private TextTokenizer(HuggingFaceTokenizer tokenizer, byte[] bytes, Path file) {
        this.tokenizer = tokenizer;
        this.bytes = bytes;
        this.file = file;
    }

    /** Loads {@code path}, a {@code tokenizer.json} or a directory that holds one. */
    public static TextTokenizer load(Path path) throws IOException {
        NativeRuntime.init();
        Path file = fileOf(path);
        if (!Files.isRegularFile(file)) {
            throw new TokenizerException("no " + TOKENIZER_FILE + " at " + path
                    + "; write GPT-2's with the command 'tokenizer gpt2 --out DIR' or copy one from a Hugging Face model");
        }
        byte[] bytes = Files.readAllBytes(file);
        HuggingFaceTokenizer tokenizer;
        try {
            tokenizer = HuggingFaceTokenizer.builder()
                    .optTokenizerPath(file)
                    .optAddSpecialTokens(false)
                    .optTruncation(false)
                    .optPadding(false)
                    .build();
        } catch (RuntimeException e) {
            // the native library's message is a serde error ("expected value at line 1 column 1"), about the file
            throw new TokenizerException(file + " is not a Hugging Face tokenizer.json (" + e.getMessage()
                    + "); give the tokenizer.json saved by tokenizer.save_pretrained(dir), or write GPT-2's with"
                    + " 'tokenizer gpt2 --out DIR'");
        }
        return new TextTokenizer(tokenizer, bytes, file);
    }

    /** {@code path} itself, or the tokenizer.json inside it when it is a directory (a model or tokenizer folder). */
    public static Path fileOf(Path path) {
        return Files.isDirectory(path) ? path.resolve(TOKENIZER_FILE) : path;
    }

    public int[] encode(String text) {
        return toInts(tokenizer.encode(text, false, false).getIds());
    }

    /** Encodes many texts at once, untruncated; the native library spreads the work over the cores. */
    public List<int[]> encodeAll(List<String> texts) {
        Encoding[] encodings = tokenizer.batchEncode(texts, false, false);
        List<int[]> out = new ArrayList<>(encodings.length);
        for (Encoding encoding : encodings) {
            out.add(toInts(encoding.getIds()));
        }
        return out;
    }

    public String decode(int[] ids) {
        return tokenizer.decode(Arrays.stream(ids).asLongStream().toArray(), false);
    }

    /**
     * SHA-256 of the {@code tokenizer.json} bytes as loaded: datasets and training runs record it to prove
     * which tokenizer made them. Computed when first asked for, not on load: classify never asks, and
     * under the Lambda runtime's JIT (C1 only, no SHA intrinsic) hashing GPT-2's 1.9 MB takes ~50 ms of
     * CPU in a fresh JVM, on the tokenizer's load, the longer of a model load's two halves.
     */
    public synchronized String sha256() {
        if (sha256 == null) {
            sha256 = sha256(bytes);
            bytes = null;
        }
        return sha256;
    }

    public Path file() {
        return file;
    }

    @Override
    public void close() {
        tokenizer.close();
    }

    private static int[] toInts(long[] ids) {
        int[] out = new int[ids.length];
        for (int i = 0; i < ids.length; i++) {
            out[i] = Math.toIntExact(ids[i]);
        }
        return out;
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
