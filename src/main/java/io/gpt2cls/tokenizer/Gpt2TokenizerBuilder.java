package io.gpt2cls.tokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * Builds GPT-2's Hugging Face {@code tokenizer.json} offline, from the byte-pair ranks that jtokkit
 * ships ({@code r50k_base}, the GPT-2 encoding).
 *
 * <p>A rank file lists each token's bytes and its id; {@code tokenizer.json} needs a vocabulary in
 * GPT-2's byte-to-unicode alphabet and the merges in rank order. Each merge is recovered by running
 * byte-pair encoding on the token's own bytes with only the lower ranks: what remains are the two
 * parts whose merge created the token.
 */
public final class Gpt2TokenizerBuilder {

    public static final String END_OF_TEXT = "<|endoftext|>";
    public static final int END_OF_TEXT_ID = 50256;
    /** GPT-2's n_positions: the longest input of the Hub's GPT-2 models, which a bare GPT-2 tokenizer records. */
    public static final int MODEL_MAX_LENGTH = 1024;
    private static final String RANKS_RESOURCE = "/com/knuddels/jtokkit/r50k_base.tiktoken";

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    private Gpt2TokenizerBuilder() {}

    /**
     * Writes {@code tokenizer.json}, {@code tokenizer_config.json} and {@code special_tokens_map.json}
     * into {@code dir}, so {@code AutoTokenizer.from_pretrained(dir)} loads it: GPT-2's tokenizer as
     * the Hub ships it (1024 tokens, cut on the right), with {@code <|endoftext|>} as its pad token.
     */
    public static Path writeTo(Path dir) throws IOException {
        Files.createDirectories(dir);
        Path tokenizerJson = dir.resolve(TextTokenizer.TOKENIZER_FILE);
        Files.writeString(tokenizerJson, JSON.writeValueAsString(tokenizerJson()));
        TokenizerFiles.forModel(tokenizerJson, END_OF_TEXT_ID, new Truncation(MODEL_MAX_LENGTH, TruncationSide.RIGHT)).writeTo(dir);
        return tokenizerJson;
    }

    /**
     * GPT-2's tokenizer.json in {@code cacheDir}, built on first use. The build is deterministic, so
     * every copy has the same SHA-256 and datasets prepared with one match models trained with another.
     */
    public static synchronized Path cached(Path cacheDir) throws IOException {
        Path file = cacheDir.resolve(TextTokenizer.TOKENIZER_FILE);
        if (!Files.exists(file)) {
            Path staging = Files.createTempDirectory(Files.createDirectories(cacheDir.getParent()), ".gpt2-tokenizer-");
            writeTo(staging);
            try {
                Files.move(staging, cacheDir, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                // another process built it first; theirs is byte-identical
                try (var files = Files.list(staging)) {
                    for (Path f : files.toList()) {
                        Files.delete(f);
                    }
                }
                Files.delete(staging);
            }
        }
        return file;
    }

    /** The default cache under the temp directory, the one writable place on AWS Lambda. */
    public static Path cached() throws IOException {
        return cached(Path.of(System.getProperty("java.io.tmpdir"), "gpt2cls", "gpt2-tokenizer"));
    }

    /**
     * GPT-2's own {@code tokenizer_config.json} keys, as {@code GPT2TokenizerFast.save_pretrained}
     * writes them; {@link TokenizerFiles} adds the ones that depend on the model.
     */
    static ObjectNode tokenizerConfig() {
        ObjectNode config = JSON.createObjectNode();
        config.put("tokenizer_class", "GPT2Tokenizer")
                .put("bos_token", END_OF_TEXT)
                .put("eos_token", END_OF_TEXT)
                .put("unk_token", END_OF_TEXT)
                .put("add_prefix_space", false)
                .put("clean_up_tokenization_spaces", false);
        return config;
    }

    static ObjectNode tokenizerJson() throws IOException {
        Map<String, Integer> ranks = readRanks();
        String[] byteToChar = byteToUnicode();

        List<Map.Entry<String, Integer>> byRank = new ArrayList<>(ranks.entrySet());
        byRank.sort(Map.Entry.comparingByValue());

        ObjectNode root = JSON.createObjectNode();
        root.put("version", "1.0");
        root.putNull("truncation");
        root.putNull("padding");
        ArrayNode added = root.putArray("added_tokens");
        added.addObject().put("id", END_OF_TEXT_ID).put("content", END_OF_TEXT).put("single_word", false)
                .put("lstrip", false).put("rstrip", false).put("normalized", true).put("special", true);
        root.putNull("normalizer");
        root.set("pre_tokenizer", byteLevel(false, true));
        root.set("post_processor", byteLevel(true, false));
        root.set("decoder", byteLevel(true, true));

        ObjectNode model = root.putObject("model");
        model.put("type", "BPE");
        model.putNull("dropout");
        model.putNull("unk_token");
        model.put("continuing_subword_prefix", "");
        model.put("end_of_word_suffix", "");
        model.put("fuse_unk", false);
        model.put("byte_fallback", false);
        model.put("ignore_merges", false);
        ObjectNode vocab = model.putObject("vocab");
        ArrayNode merges = model.putArray("merges");
        for (Map.Entry<String, Integer> token : byRank) {
            vocab.put(toUnicode(token.getKey(), byteToChar), token.getValue());
        }
        vocab.put(END_OF_TEXT, END_OF_TEXT_ID);
        for (Map.Entry<String, Integer> token : byRank) {
            if (token.getKey().length() < 2) {
                continue;
            }
            String[] parts = lastMerge(token.getKey(), token.getValue(), ranks);
            merges.add(toUnicode(parts[0], byteToChar) + " " + toUnicode(parts[1], byteToChar));
        }
        return root;
    }

    /**
     * Byte-pair encodes {@code token} using only ranks below its own; the two parts left are the
     * merge that produced it. Tokens are held as Latin-1 strings: one char per byte.
     */
    static String[] lastMerge(String token, int rank, Map<String, Integer> ranks) {
        List<String> parts = new ArrayList<>();
        for (char c : token.toCharArray()) {
            parts.add(String.valueOf(c));
        }
        while (parts.size() > 2) {
            int best = -1;
            int bestRank = Integer.MAX_VALUE;
            for (int i = 0; i + 1 < parts.size(); i++) {
                Integer r = ranks.get(parts.get(i) + parts.get(i + 1));
                if (r != null && r < rank && r < bestRank) {
                    bestRank = r;
                    best = i;
                }
            }
            if (best < 0) {
                break;
            }
            parts.set(best, parts.get(best) + parts.remove(best + 1));
        }
        if (parts.size() != 2) {
            throw new IllegalStateException("rank file is not a byte-pair vocabulary: token of rank " + rank
                    + " does not split into two lower-ranked parts (got " + parts.size() + ")");
        }
        return parts.toArray(new String[0]);
    }

    private static ObjectNode byteLevel(boolean addPrefixSpace, boolean trimOffsets) {
        ObjectNode node = JSON.createObjectNode();
        node.put("type", "ByteLevel");
        node.put("add_prefix_space", addPrefixSpace);
        node.put("trim_offsets", trimOffsets);
        node.put("use_regex", true);
        return node;
    }

    /** r50k_base ranks, keyed by the token's bytes as a Latin-1 string. */
    static Map<String, Integer> readRanks() throws IOException {
        Map<String, Integer> ranks = new HashMap<>();
        try (InputStream in = Gpt2TokenizerBuilder.class.getResourceAsStream(RANKS_RESOURCE)) {
            if (in == null) {
                throw new IOException("jtokkit's " + RANKS_RESOURCE + " is not on the classpath");
            }
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.isBlank()) {
                    continue;
                }
                int space = line.indexOf(' ');
                byte[] bytes = Base64.getDecoder().decode(line.substring(0, space));
                ranks.put(new String(bytes, StandardCharsets.ISO_8859_1), Integer.parseInt(line.substring(space + 1).trim()));
            }
        }
        if (ranks.size() != END_OF_TEXT_ID) {
            throw new IOException("expected " + END_OF_TEXT_ID + " ranks in " + RANKS_RESOURCE + ", found " + ranks.size());
        }
        return ranks;
    }

    /**
     * GPT-2's reversible byte-to-unicode table: printable bytes map to themselves, the others to
     * code points from 256 up, so every token is a printable string without spaces.
     */
    static String[] byteToUnicode() {
        String[] table = new String[256];
        int next = 0;
        for (int b = 0; b < 256; b++) {
            boolean printable = (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
            table[b] = printable ? String.valueOf((char) b) : String.valueOf((char) (256 + next++));
        }
        return table;
    }

    private static String toUnicode(String latin1Bytes, String[] byteToChar) {
        StringBuilder sb = new StringBuilder(latin1Bytes.length());
        for (int i = 0; i < latin1Bytes.length(); i++) {
            sb.append(byteToChar[latin1Bytes.charAt(i)]);
        }
        return sb.toString();
    }
}
