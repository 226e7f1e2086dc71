package io.gpt2cls.dataset;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * What identifies a text exactly, in 16 bytes: the first half of the SHA-256 of its UTF-8 bytes.
 * Texts are compared as they are, whitespace and case included: the model sees any difference.
 * Two different texts share a key with odds of about n^2 / 2^129 for n texts, i.e. never.
 */
record TextKey(long high, long low) {

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-256", e);
        }
    }

    /** {@code digest} is reset and reused, so one thread keys many texts without creating digests. */
    static TextKey of(String text, MessageDigest digest) {
        digest.reset();
        ByteBuffer hash = ByteBuffer.wrap(digest.digest(text.getBytes(StandardCharsets.UTF_8)));
        return new TextKey(hash.getLong(), hash.getLong());
    }
}
