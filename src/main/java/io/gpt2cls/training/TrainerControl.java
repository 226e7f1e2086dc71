package io.gpt2cls.training;

/**
 * Hugging Face's {@code TrainerControl}: what the Trainer does after the current update. The
 * Trainer sets the should-flags from the strategies ({@code logging_steps}, {@code eval_strategy},
 * {@code save_strategy}) before {@link TrainerCallback#onStepEnd}; callbacks may change them, and
 * may ask training to stop ({@link EarlyStoppingCallback}).
 */
public final class TrainerControl {
    public boolean shouldLog;
    public boolean shouldEvaluate;
    public boolean shouldSave;
    public boolean shouldTrainingStop;

    void resetStep() {
        shouldLog = false;
        shouldEvaluate = false;
        shouldSave = false;
    }
}
