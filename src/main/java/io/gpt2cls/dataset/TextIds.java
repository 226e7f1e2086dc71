package io.gpt2cls.dataset;

import java.util.Arrays;

/**
 * Numbers the distinct texts ({@link TextKey}s) the reduce meets, 0, 1, 2, ... in order of first sight,
 * in primitive arrays: about 32 bytes a distinct text, where a map of keys would take over 100. The
 * keys are SHA-256 bits, so their first 8 bytes already spread them over the table.
 */
final class TextIds {

    private long[] highs = new long[1024];
    private long[] lows = new long[1024];
    /** Open addressing, linear probing: id + 1 of the text in each slot, 0 for an empty slot. */
    private int[] slots = new int[2048];
    private int size;

    /** The id of {@code key}, a new one if it was not seen before. */
    int idOf(TextKey key) {
        int mask = slots.length - 1;
        for (int slot = (int) key.high() & mask; ; slot = (slot + 1) & mask) {
            int id = slots[slot] - 1;
            if (id < 0) {
                return add(key, slot);
            }
            if (highs[id] == key.high() && lows[id] == key.low()) {
                return id;
            }
        }
    }

    /** The text numbered {@code id}. */
    TextKey key(int id) {
        return new TextKey(highs[id], lows[id]);
    }

    /** Distinct texts so far. */
    int size() {
        return size;
    }

    private int add(TextKey key, int slot) {
        if (size == highs.length) {
            highs = Arrays.copyOf(highs, Math.multiplyExact(size, 2));
            lows = Arrays.copyOf(lows, size * 2);
        }
        highs[size] = key.high();
        lows[size] = key.low();
        slots[slot] = ++size;
        if (size * 2L > slots.length) {
            rehash();
        }
        return size - 1;
    }

    private void rehash() {
        slots = new int[Math.multiplyExact(slots.length, 2)];
        int mask = slots.length - 1;
        for (int id = 0; id < size; id++) {
            int slot = (int) highs[id] & mask;
            while (slots[slot] != 0) {
                slot = (slot + 1) & mask;
            }
            slots[slot] = id + 1;
        }
    }
}
