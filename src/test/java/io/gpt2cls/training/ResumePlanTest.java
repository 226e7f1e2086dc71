package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;

/**
 * What a request does with what its output holds (the table in {@link ResumePlan}): resume its own
 * run, answer a finished one, start over or refuse, and say why.
 */
class ResumePlanTest {

    static final String DATASET = "a1b2c3d4e5f6a1b2c3d4e5f6";
    static final String MODEL = "preset tiny, init_seed 42";

    final LocalStore store = new LocalStore();
    Location output;
    RunIdentity identity;

    @BeforeEach
    void setUp(@TempDir Path dir) throws IOException {
        output = Location.of(dir.resolve("model"));
        identity = RunIdentity.of(DATASET, MODEL, new TrainingArguments());
    }

    /** A committed set recording a run: config.json (the commit object), trainer_state.json, training_args.json. */
    void publish(String name, String dataset, TrainingArguments args) throws IOException {
        Path dir = name.isEmpty() ? output.path() : output.path().resolve(name);
        Files.createDirectories(dir);
        TrainerState state = new TrainerState();
        state.dataset_sha256 = dataset;
        state.model_source = MODEL;
        state.write(dir);
        Checkpoint.writeArgs(dir, args);
        Files.writeString(dir.resolve("config.json"), "{}");
    }

    ResumePlan decide(ResumeFrom request) throws IOException {
        return ResumePlan.decide(store, output, request, identity);
    }

    static TrainingArguments withLearningRate(double lr) {
        TrainingArguments args = new TrainingArguments();
        args.learning_rate = lr;
        return args;
    }

    @Test
    void anEmptyOutputStartsANewRun() throws IOException {
        assertEquals(new ResumePlan(ResumePlan.Action.START, null, List.of()), decide(ResumeFrom.AUTO));
    }

    @Test
    void checkpointsOfThisRunResumeFromTheNewestByStep() throws IOException {
        for (String name : List.of("checkpoint-4", "checkpoint-12", "checkpoint-8")) {
            publish(name, DATASET, new TrainingArguments());
        }
        Files.createDirectories(output.path().resolve("checkpoint-16")); // being written: no config.json yet
        ResumePlan plan = decide(ResumeFrom.AUTO);
        assertEquals(ResumePlan.Action.RESUME, plan.action());
        assertEquals(output.resolve("checkpoint-12"), plan.checkpoint(), "12 > 8 > 4, and 16 is not complete");
    }

    @Test
    void aFinishedRunSentAgainIsAnsweredNotTrainedAgain() throws IOException {
        publish("checkpoint-8", DATASET, new TrainingArguments());
        publish("", DATASET, new TrainingArguments());
        assertEquals(ResumePlan.Action.ALREADY_COMPLETED, decide(ResumeFrom.AUTO).action());
        assertEquals(ResumePlan.Action.ALREADY_COMPLETED, decide(ResumeFrom.of(com.fasterxml.jackson.databind.node.BooleanNode.TRUE))
                .action(), "resuming a finished run leaves nothing to do");
    }

    @Test
    void anUnfinishedRunWithOtherSettingsIsRefusedSayingWhatDiffers() throws IOException {
        publish("checkpoint-8", DATASET, withLearningRate(1e-3));
        TrainingException e = assertThrows(TrainingException.class, () -> decide(ResumeFrom.AUTO));
        assertTrue(e.getMessage().contains("learning_rate (0.001 there, 2.0E-5 here)"), e.getMessage());
        assertTrue(e.getMessage().contains("set resume_from_checkpoint to true") && e.getMessage().contains("false"), e.getMessage());
        assertTrue(Files.exists(output.path().resolve("checkpoint-8/config.json")), "nothing is removed");
    }

    @Test
    void aFinishedRunOnAnotherDatasetIsReplacedAndItsCheckpointsRemoved() throws IOException {
        publish("checkpoint-8", "another-dataset", new TrainingArguments());
        publish("", "another-dataset", new TrainingArguments());
        ResumePlan plan = decide(ResumeFrom.AUTO);
        assertEquals(ResumePlan.Action.START, plan.action());
        assertEquals(List.of(output.resolve("checkpoint-8")), plan.checkpointsToDelete());
    }

    @Test
    void resumeFromCheckpointFalseStartsOverWithoutTheOldCheckpoints() throws IOException {
        publish("checkpoint-8", DATASET, new TrainingArguments());
        ResumePlan plan = decide(ResumeFrom.NEVER);
        assertEquals(ResumePlan.Action.START, plan.action());
        assertEquals(List.of(output.resolve("checkpoint-8")), plan.checkpointsToDelete());
    }

    @Test
    void resumeFromCheckpointTrueContinuesTheNewestEvenWithOtherArguments() throws IOException {
        publish("checkpoint-8", DATASET, withLearningRate(1e-3));
        ResumePlan plan = decide(ResumeFrom.of(com.fasterxml.jackson.databind.node.TextNode.valueOf("latest")));
        assertEquals(new ResumePlan(ResumePlan.Action.RESUME, output.resolve("checkpoint-8"), List.of()), plan);
    }

    @Test
    void anExplicitResumeThatMovesTheDataPositionIsRefusedNamingWhatDiffers() throws IOException {
        TrainingArguments recorded = new TrainingArguments();
        recorded.per_device_train_batch_size = 16;
        recorded.seed = 7;
        publish("checkpoint-8", DATASET, recorded);
        for (ResumeFrom request : List.of(ResumeFrom.of(com.fasterxml.jackson.databind.node.BooleanNode.TRUE),
                new ResumeFrom(ResumeFrom.Mode.AT, output.resolve("checkpoint-8")))) {
            TrainingException e = assertThrows(TrainingException.class, () -> decide(request));
            assertTrue(e.getMessage().contains("per_device_train_batch_size (16 there, 8 here)")
                    && e.getMessage().contains("seed (7 there, 42 here)"), e.getMessage());
            assertTrue(e.getMessage().contains("ignore_data_skip"), "says how to continue anyway: " + e.getMessage());
        }
        TrainingException auto = assertThrows(TrainingException.class, () -> decide(ResumeFrom.AUTO));
        assertTrue(auto.getMessage().contains("resume_from_checkpoint to true and training.ignore_data_skip to true"), auto.getMessage());
    }

    @Test
    void ignoreDataSkipLetsAnExplicitResumeChangeTheBatchSize() throws IOException {
        TrainingArguments recorded = new TrainingArguments();
        recorded.per_device_train_batch_size = 16;
        publish("checkpoint-8", DATASET, recorded);
        TrainingArguments args = new TrainingArguments();
        args.ignore_data_skip = true;
        identity = RunIdentity.of(DATASET, MODEL, args);
        assertEquals(new ResumePlan(ResumePlan.Action.RESUME, output.resolve("checkpoint-8"), List.of()),
                decide(ResumeFrom.of(com.fasterxml.jackson.databind.node.BooleanNode.TRUE)));
        publish("checkpoint-9", DATASET, new TrainingArguments()); // this request's arguments, ignore_data_skip apart
        assertEquals(new ResumePlan(ResumePlan.Action.RESUME, output.resolve("checkpoint-9"), List.of()), decide(ResumeFrom.AUTO),
                "ignore_data_skip says how to resume, not which run it is: a retry of the same request resumes its own checkpoint");
    }

    @Test
    void resumeFromCheckpointTrueWithNothingToResumeIsRefused() {
        TrainingException e = assertThrows(TrainingException.class,
                () -> decide(ResumeFrom.of(com.fasterxml.jackson.databind.node.BooleanNode.TRUE)));
        assertTrue(e.getMessage().contains("holds no complete checkpoint"), e.getMessage());
    }

    @Test
    void aCheckpointOfAnotherDatasetIsNeverResumed() throws IOException {
        publish("checkpoint-8", "another-dataset", new TrainingArguments());
        TrainingException e = assertThrows(TrainingException.class,
                () -> decide(new ResumeFrom(ResumeFrom.Mode.AT, output.resolve("checkpoint-8"))));
        assertTrue(e.getMessage().contains("another dataset") && e.getMessage().contains("base_model"), e.getMessage());
        TrainingException missing = assertThrows(TrainingException.class,
                () -> decide(new ResumeFrom(ResumeFrom.Mode.AT, output.resolve("checkpoint-99"))));
        assertTrue(missing.getMessage().contains("no complete checkpoint at"), missing.getMessage());
    }
}
