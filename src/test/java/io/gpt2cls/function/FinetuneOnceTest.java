package io.gpt2cls.function;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.PublishConflictException;
import io.gpt2cls.storage.RoutingStore;

/**
 * One dataset version starts at most one fine-tuning run: a job holds its output's run lease under a
 * name made of the dataset's version, and a second job for that version does nothing.
 */
class FinetuneOnceTest {

    @TempDir
    Path work;
    FinetuneService finetune;
    Location dataset;
    Location output;

    @BeforeEach
    void prepareADataset() {
        PrepareService prepare = new PrepareService();
        prepare.store = new RoutingStore(new LocalStore(), () -> null, List.of());
        PrepareRequest request = new PrepareRequest();
        request.train = TestModels.MESSAGES.toString();
        request.output = work.resolve("prepared/spam").toString();
        prepare.prepare(request);
        dataset = Location.of(work.resolve("prepared/spam"));
        output = Location.of(work.resolve("models/spam"));
        finetune = new FinetuneService();
        finetune.store = new RoutingStore(new LocalStore(), () -> null, List.of());
    }

    FinetuneRequest request() {
        FinetuneRequest request = new FinetuneRequest();
        request.dataset = dataset.toString();
        return request;
    }

    @Test
    void aSecondJobForTheSameDatasetVersionAnswersAlreadyRunningAndTrainsNothing() throws Exception {
        ArtifactStore firstJob = new LocalStore(); // the first job: another process, in production
        String job = FinetuneService.jobName(dataset, dataset.path());
        assertTrue(job.matches("finetune of .*prepared/spam version [0-9a-f]{12}"), job);
        try (ArtifactStore.Lease running = firstJob.lease(output, FinetuneService.RUN_LEASE, job, null)) {
            FinetuneResponse second = finetune.finetune(request());
            assertEquals("already_running", second.status);
            assertEquals(job, second.job);
            assertTrue(second.heldBy.contains(running.record().run()) && second.heldBy.contains(running.record().since()),
                    second.heldBy);
            assertEquals(List.of(), firstJob.listSets(output, "config.json"), "nothing trained or published");
        }
    }

    @Test
    void anotherJobOnTheSameOutputIsAConflictNamingIt() throws Exception {
        ArtifactStore firstJob = new LocalStore();
        try (ArtifactStore.Lease running = firstJob.lease(output, FinetuneService.RUN_LEASE,
                "finetune of s3://elsewhere/prepared/other version 0123456789ab", null)) {
            PublishConflictException conflict = assertThrows(PublishConflictException.class, () -> finetune.finetune(request()));
            assertTrue(conflict.getMessage().contains("finetune of s3://elsewhere/prepared/other version 0123456789ab"),
                    conflict.getMessage());
            assertEquals(FunctionError.CONFLICT, FunctionError.of(conflict).type());
        }
    }

    @Test
    void theJobIsNamedAfterTheDatasetVersion() throws Exception {
        String before = FinetuneService.jobName(dataset, dataset.path());
        Path manifest = dataset.path().resolve(Manifest.FILE);
        java.nio.file.Files.writeString(manifest, java.nio.file.Files.readString(manifest) + "\n"); // republished: another SHA-256
        assertTrue(!before.equals(FinetuneService.jobName(dataset, dataset.path())), "another manifest version, another job");
    }
}
