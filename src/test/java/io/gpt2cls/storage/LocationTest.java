package io.gpt2cls.storage;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class LocationTest {

    @ParameterizedTest
    @ValueSource(strings = {"s3://bucket/raw/../prepared/x", "s3://bucket/./raw", "s3://bucket/raw/..", "s3://bucket/a/./b/"})
    void anS3KeyWithADotSegmentIsRefused(String location) {
        StorageException refused = assertThrows(StorageException.class, () -> Location.parse(location));
        assertTrue(refused.getMessage().contains("'.' or '..' segments are refused"), refused.getMessage());
        assertTrue(refused.getMessage().contains(location), refused.getMessage());
    }

    @ParameterizedTest
    @ValueSource(strings = {"s3://bucket/raw/.hidden/x", "s3://bucket/raw/train..jsonl", "s3://bucket/v1.2/model"})
    void dotsInsideANameAreFine(String location) {
        assertEquals(location, Location.parse(location).toString());
    }
}
