package io.gpt2cls.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

class DeadlineTest {

    @Test
    void theJobStopsItselfTheMarginBeforeItsAttemptTimeout() {
        Instant start = Instant.parse("2026-12-03T08:00:00Z");
        assertEquals(Instant.parse("2026-12-03T19:50:00Z"), Deadline.before(start, Duration.ofHours(12), Duration.ofMinutes(10)));
        IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class,
                () -> Deadline.before(start, Duration.ofMinutes(10), Duration.ofMinutes(10)));
        assertTrue(tooShort.getMessage().contains("gpt2cls.finetune.attempt-timeout"), tooShort.getMessage());
    }

    @Test
    void aPassedDeadlineActsAtOnceAndAClosedOneNever() throws InterruptedException {
        Clock clock = Clock.systemUTC();
        CountDownLatch passed = new CountDownLatch(1);
        try (Deadline deadline = Deadline.at(clock.instant().minusSeconds(1), clock, passed::countDown)) {
            assertTrue(passed.await(10, TimeUnit.SECONDS));
        }
        CountDownLatch cancelled = new CountDownLatch(1);
        Deadline later = Deadline.at(clock.instant().plusMillis(300), clock, cancelled::countDown);
        later.close();
        assertFalse(cancelled.await(1, TimeUnit.SECONDS), "a closed deadline does not act");
    }
}
