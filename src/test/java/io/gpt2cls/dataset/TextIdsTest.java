package io.gpt2cls.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

class TextIdsTest {

    /** Through many rehashes, with keys that share their first 8 bytes: each text keeps the number it got first. */
    @Test
    void numbersTextsInOrderOfFirstSightAndKeepsThem() {
        TextIds ids = new TextIds();
        Map<TextKey, Integer> expected = new HashMap<>();
        List<TextKey> seen = new ArrayList<>();
        SplittableRandom random = new SplittableRandom(3);
        for (int i = 0; i < 200_000; i++) {
            TextKey key;
            if (!seen.isEmpty() && random.nextInt(4) == 0) {
                key = seen.get(random.nextInt(seen.size()));                      // a repeat
            } else if (!seen.isEmpty() && random.nextInt(8) == 0) {
                key = new TextKey(seen.get(random.nextInt(seen.size())).high(), random.nextLong()); // same slot, other text
            } else {
                key = new TextKey(random.nextLong(), random.nextLong());
            }
            Integer number = expected.putIfAbsent(key, expected.size());
            if (number == null) {
                seen.add(key);
            }
            assertEquals(expected.get(key), ids.idOf(key), "text " + i);
        }
        assertEquals(expected.size(), ids.size());
        for (Map.Entry<TextKey, Integer> entry : expected.entrySet()) {
            assertEquals(entry.getKey(), ids.key(entry.getValue()));
            assertEquals(entry.getValue(), ids.idOf(entry.getKey()));
        }
    }
}
