package io.gpt2cls.cli;

import java.nio.file.NoSuchFileException;

import io.gpt2cls.function.FunctionError;
import io.gpt2cls.runtime.GracefulStop;

/**
 * The jar's exit statuses, by cause. AWS Batch retries a fine-tuning job by its exit status
 * ({@code RetryStrategy} of {@code FinetuneJobDefinition} in infra/template.yaml): the statuses a new
 * attempt can finish (it resumes from the newest checkpoint) are {@link #retried}, the others end the
 * job. TemplateWiringTest keeps the template's rules and this list in step.
 */
public enum ExitStatus {
    /** Done; also a job that finds its work already finished. */
    DONE(0, false),
    /** The request, or a dataset, model or file it names, cannot be used: the same input would fail again. */
    BAD_INPUT(1, false),
    /** The command line: an unknown command, a missing or malformed option. */
    USAGE(2, false),
    /** A fault of this program (EX_SOFTWARE in sysexits.h): the log has the details; a retry would meet it again. */
    INTERNAL(70, false),
    /** Storage unreachable or failing after the SDK's own retries (EX_TEMPFAIL): the next attempt resumes. */
    TEMPORARY_FAILURE(75, true),
    /**
     * Stopped after publishing a checkpoint (SIGTERM, a spot interruption notice, the job's own deadline):
     * 128 + 15, as a shell reports a SIGTERM. The next attempt resumes from the checkpoint.
     */
    STOPPED(143, true),
    /**
     * A stop that outlasted its deadline ({@link GracefulStop}): the checkpoint it was publishing stays
     * uncommitted; the next attempt resumes from the newest complete one.
     */
    STOP_DEADLINE_PASSED(GracefulStop.DEADLINE_PASSED_EXIT_STATUS, true);

    public final int code;
    /** Whether the job definition retries it. */
    public final boolean retried;

    ExitStatus(int code, boolean retried) {
        this.code = code;
        this.retried = retried;
    }

    /** Why a command failed, as an exit status: the one place causes become codes (error types: {@link FunctionError#typeOf}). */
    public static ExitStatus of(Throwable failure) {
        if (failure instanceof Main.UsageException) {
            return USAGE;
        }
        if (failure instanceof IllegalArgumentException || failure instanceof NoSuchFileException) {
            return BAD_INPUT; // the commands' own checks of their options and input files
        }
        return switch (FunctionError.typeOf(failure)) {
            case FunctionError.UNAVAILABLE -> TEMPORARY_FAILURE;
            case FunctionError.INTERNAL -> INTERNAL;
            default -> BAD_INPUT;
        };
    }
}
