package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import io.gpt2cls.storage.Location;

/** What an upload event hands finetune: the manifest's location, and no output. */
class FinetuneConventionsTest {

    @Test
    void aDatasetMayBeNamedByItsManifest() {
        assertEquals(Location.parse("s3://data-bucket/prepared/spam"),
                FinetuneService.datasetLocation("s3://data-bucket/prepared/spam/manifest.json"));
        assertEquals(Location.parse("runs/x/prepared/spam"), FinetuneService.datasetLocation("runs/x/prepared/spam"));
    }

    @Test
    void aPreparedDatasetTrainsIntoModelsOfTheSameName() {
        assertEquals("s3://data-bucket/models/spam",
                FinetuneService.conventionalOutput(Location.parse("s3://data-bucket/prepared/spam")).toString());
        assertEquals("runs/x/models/spam", FinetuneService.conventionalOutput(Location.parse("runs/x/prepared/spam")).toString());
        InvalidRequestException e = assertThrows(InvalidRequestException.class,
                () -> FinetuneService.conventionalOutput(Location.parse("s3://data-bucket/datasets/spam")));
        assertEquals("output", e.field());
    }
}
