package io.gpt2cls.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.UncheckedIOException;
import java.nio.file.NoSuchFileException;
import java.util.Arrays;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.CompletionException;

import org.junit.jupiter.api.Test;

import io.gpt2cls.dataset.DatasetException;
import io.gpt2cls.function.InvalidRequestException;
import io.gpt2cls.storage.ArtifactNotFoundException;
import io.gpt2cls.storage.StorageException;
import io.gpt2cls.storage.StorageUnavailableException;

/** Each cause's exit status: AWS Batch retries fine-tuning by these numbers (TemplateWiringTest checks the rules). */
class ExitStatusTest {

    @Test
    void eachStatusHasItsNumber() {
        Map<String, Integer> codes = new TreeMap<>();
        Arrays.stream(ExitStatus.values()).forEach(s -> codes.put(s.name(), s.code));
        assertEquals(Map.of("DONE", 0, "BAD_INPUT", 1, "USAGE", 2, "INTERNAL", 70, "TEMPORARY_FAILURE", 75, "STOPPED", 143,
                "STOP_DEADLINE_PASSED", 142), codes);
    }

    @Test
    void onlyWhatANewAttemptCanFinishIsRetried() {
        Map<String, Boolean> retried = new TreeMap<>();
        Arrays.stream(ExitStatus.values()).forEach(s -> retried.put(s.name(), s.retried));
        assertEquals(Map.of("DONE", false, "BAD_INPUT", false, "USAGE", false, "INTERNAL", false, "TEMPORARY_FAILURE", true,
                "STOPPED", true, "STOP_DEADLINE_PASSED", true), retried);
    }

    @Test
    void eachCauseGetsItsStatus() {
        assertEquals(ExitStatus.USAGE, ExitStatus.of(new Main.UsageException("missing --out")));
        assertEquals(ExitStatus.BAD_INPUT, ExitStatus.of(new InvalidRequestException("dataset", "field 'dataset' is required")));
        assertEquals(ExitStatus.BAD_INPUT, ExitStatus.of(new DatasetException("column 'text' not found in train.csv")));
        assertEquals(ExitStatus.BAD_INPUT, ExitStatus.of(new ArtifactNotFoundException("no model at s3://b/models/x")));
        assertEquals(ExitStatus.BAD_INPUT, ExitStatus.of(new StorageException("access denied: cannot read s3://b/x")));
        assertEquals(ExitStatus.BAD_INPUT, ExitStatus.of(new IllegalArgumentException("input file x.json does not exist")));
        assertEquals(ExitStatus.BAD_INPUT, ExitStatus.of(new NoSuchFileException("x.json")));
        StorageUnavailableException s3Down = new StorageUnavailableException("S3 kept failing (HTTP 503) after 5 attempts", null);
        assertEquals(ExitStatus.TEMPORARY_FAILURE, ExitStatus.of(s3Down));
        // an upload on another thread arrives wrapped
        assertEquals(ExitStatus.TEMPORARY_FAILURE, ExitStatus.of(new CompletionException(s3Down)));
        assertEquals(ExitStatus.INTERNAL, ExitStatus.of(new IllegalStateException("a bug")));
        assertEquals(ExitStatus.INTERNAL, ExitStatus.of(new UncheckedIOException(new java.io.IOException("disk full"))));
    }
}
