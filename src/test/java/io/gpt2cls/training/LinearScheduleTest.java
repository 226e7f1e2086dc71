package io.gpt2cls.training;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class LinearScheduleTest {

    @Test
    void warmsUpFromZeroThenDecaysToZero() {
        LinearSchedule s = new LinearSchedule(1e-3, 10, 110);
        assertEquals(0.0, s.learningRate(0), 1e-12);
        assertEquals(5e-4, s.learningRate(5), 1e-12);
        assertEquals(1e-3, s.learningRate(10), 1e-12);
        assertEquals(5e-4, s.learningRate(60), 1e-12);
        assertEquals(1e-5, s.learningRate(109), 1e-12);
        assertEquals(0.0, s.learningRate(110), 1e-12);
    }

    @Test
    void withoutWarmupStartsAtPeak() {
        assertEquals(2e-5, new LinearSchedule(2e-5, 0, 100).learningRate(0), 1e-15);
    }

    @Test
    void warmupRatioRoundsUpLikeHuggingFace() {
        TrainingArguments args = new TrainingArguments();
        args.warmup_ratio = 0.1;
        assertEquals(11, LinearSchedule.of(args, 101).warmupSteps());
        args.warmup_steps = 3;
        assertEquals(3, LinearSchedule.of(args, 101).warmupSteps());
    }
}
