package io.gpt2cls.function;

import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.quarkus.runtime.configuration.MemorySize;
import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;

/**
 * Every setting of the application, in one place: {@code gpt2cls.*} in application.properties,
 * each overridable by its environment variable ({@code gpt2cls.classify.max-texts} ->
 * {@code GPT2CLS_CLASSIFY_MAX_TEXTS}). The services below the functions take plain values from here.
 */
@ConfigMapping(prefix = "gpt2cls")
public interface AppConfig {

    Store store();

    Classify classify();

    Finetune finetune();

    Hub hub();
    Prepare prepare();

    /** A batch container (AWS Batch, ECS) names its job: {@code prepare}, {@code finetune} or {@code classify} (env GPT2CLS_JOB). */
    Optional<String> job();

    /** The job's request: a JSON file, {@code -} for stdin (env GPT2CLS_JOB_REQUEST). */
    Optional<String> jobRequest();

    /** How prepare runs: in this process on worker threads, or on the distributed prepare's state machine. */
    interface Prepare {
        /** Map tasks run at once in this process (CLI, local store, the prepare function); any number gives the same dataset. */
        @WithDefault("1")
        int workers();

        /**
         * With more than one worker, and in a distributed run's plan: plain JSON Lines and Parquet files
         * larger than this are cut into tasks of about this size.
         */
        @WithDefault(TASK_SIZE)
        MemorySize taskSize();

        String TASK_SIZE = "256M";

        /** The distributed prepare's state machine (ARN); unset: every upload is prepared in one process. */
        Optional<String> stateMachine();

        /** An upload whose input files hold more bytes than this is prepared on {@link #stateMachine()}. */
        @WithDefault("2G")
        MemorySize distributedAbove();

        /** Map tasks at once in a distributed run (the Distributed Map's MaxConcurrency, from the execution input). */
        @WithDefault("100")
        int mapConcurrency();
    }

    interface Store {
        /**
         * Locations requests may name, each with everything below it (e.g. {@code s3://bucket/raw},
         * {@code /tmp}); unset allows any. A deployed function should always set it.
         */
        Optional<List<String>> allowedLocations();

        S3 s3();
    }

    /**
     * How the S3 store works, beyond the standard AWS configuration (credentials, region, and the
     * endpoint from AWS_ENDPOINT_URL_S3 come from the SDK's own environment and files).
     */
    interface S3 {
        /** Downloads (keyed by ETag) and staged sets; /tmp on Lambda, so ephemeral storage must hold them. */
        @WithDefault("${java.io.tmpdir}/gpt2cls-s3")
        String cacheDir();

        /**
         * The most the cache directory may hold (downloads and staged sets); least recently used
         * downloads no set in use needs are deleted to make room. Unset: {@link #cacheMaxShare()} of
         * the file system that holds it.
         */
        Optional<MemorySize> cacheMaxSize();

        /** Without {@link #cacheMaxSize()}: this share of the cache directory's file system (/tmp on Lambda). */
        @WithDefault("0.75")
        double cacheMaxShare();

        /** Files of this size or more are uploaded in parts. */
        @WithDefault("16M")
        MemorySize multipartThreshold();

        /** Bytes per part: 5M to 5G (raised when a file would need more than 10,000 parts). */
        @WithDefault("16M")
        MemorySize partSize();

        /** Parts and files transferred at once. */
        @WithDefault("4")
        int concurrency();

        /** Attempts per request under the SDK's standard retry strategy (backoff with jitter on throttling, 5xx, I/O errors). */
        @WithDefault("5")
        int maxAttempts();

        /** Path-style requests (MinIO, S3Proxy); unset: whenever an endpoint override is in effect. */
        Optional<Boolean> pathStyle();

        /** An endpoint that takes precedence over AWS_ENDPOINT_URL_S3; normally unset. */
        Optional<URI> endpoint();
    }

    interface Classify {
        /** The model this container serves: a directory or s3:// prefix with config.json, model.safetensors, tokenizer.json. */
        Optional<String> model();

        /**
         * Load the model (and run one warm-up forward) while the container starts, so provisioned
         * concurrency pays for it before traffic; otherwise the first request loads it.
         */
        @WithDefault("false")
        boolean loadOnStart();

        /**
         * How often to look for a new version at the served model's location (e.g. {@code 60s}):
         * a new version is loaded beside the current one and swapped in, requests under way finish
         * on the old one, which is then freed. Unset: never.
         */
        Optional<Duration> refreshInterval();

        /** Texts per request. */
        @WithDefault("64")
        int maxTexts();

        /** UTF-8 bytes per text: the tokenizer's input and work grow with bytes, and a character is 1 to 4 of them. */
        @WithDefault("100000")
        int maxBytesPerText();

        /**
         * Tokens per forward pass, padding included (texts x the longest): texts of similar length
         * share one, and the bound caps a forward's memory (a GPT-2-small block's intermediates at
         * 1024 tokens are about 200 MB).
         */
        @WithDefault("1024")
        int tokensPerForward();

        /**
         * Whether a served model's matrix products take their weights in MKL's packed layout (the weight laid
         * out once for MKL's kernel instead of at every product): GPT-2 small's forward 1.15-1.4x faster for
         * texts of 128 down to 16 tokens, for ~0.1-0.15 s more per model load (~0.1 s more to a cold start's
         * first answer, the check of packed against plain products included); memory as before (the plain
         * copies are freed). Off where libtorch has no MKL or the check fails.
         */
        @WithDefault("true")
        boolean packedProducts();

        /**
         * Weights of the models held in memory at once (the configured one and those requests
         * named): past it, the least recently used are let go (after the requests under way on
         * them). The default holds two GPT-2-small models (498 MB each in float32).
         */
        @WithDefault("1G")
        MemorySize modelMemory();

        /**
         * Whether a request's {@code model} may name a training checkpoint ({@code checkpoint-<step>}
         * below a model): by default only final models are served.
         */
        @WithDefault("false")
        boolean allowCheckpoints();
    }

    interface Finetune {
        /**
         * The stop deadline: how long a stop (SIGTERM: a Batch job terminated, an instance going away;
         * or a spot interruption notice) may take, from the request, to finish the update under way
         * and write and publish a checkpoint. When it passes first, the process exits with 142 and the
         * set it was publishing stays uncommitted. ECS sends SIGKILL 30 s after SIGTERM unless the
         * task's stop timeout (ECS_CONTAINER_STOP_TIMEOUT) says otherwise; keep this below it.
         */
        @WithDefault("25s")
        Duration stopDeadline();

        SpotNotice spotNotice();

        /**
         * Watching EC2's instance metadata for a spot interruption notice (two minutes before a
         * reclaim), to stop as on SIGTERM while there is time to save. The AWS SDK's settings hold:
         * AWS_EC2_METADATA_DISABLED=true turns it off, AWS_EC2_METADATA_SERVICE_ENDPOINT moves it.
         */
        interface SpotNotice {
            @WithDefault("true")
            boolean enabled();

            /** The instance metadata endpoint; unset: the AWS SDK's (http://169.254.169.254 by default). */
            Optional<URI> endpoint();

            @WithDefault("5s")
            Duration pollInterval();
        }

        /**
         * The platform's limit on one attempt of the finetune job, from the process's start (AWS Batch's
         * attempt timeout, which Batch stops and never retries). The job stops itself
         * {@link #deadlineMargin} before it, after a checkpoint, and exits 143, which Batch retries: the
         * next attempt resumes. Unset: no deadline.
         */
        Optional<Duration> attemptTimeout();

        /** How long before {@link #attemptTimeout} the job stops: the update under way, a checkpoint's save and upload. */
        @WithDefault("10m")
        Duration deadlineMargin();

        /**
         * One JSON line per training log entry on stderr (logger category gpt2cls.metrics), for
         * CloudWatch Logs Insights. Unset: on when running on AWS Batch or Lambda
         * (AWS_BATCH_JOB_ID or AWS_LAMBDA_FUNCTION_NAME is set).
         */
        Optional<Boolean> jsonLogs();
    }

    /**
     * The Hugging Face Hub, for a {@code base_model} or {@code tokenizer} given as a model id. Set by
     * {@code huggingface_hub}'s own environment variables (application.properties maps them):
     * HF_ENDPOINT, HF_TOKEN (or the older HUGGING_FACE_HUB_TOKEN), HF_HUB_OFFLINE.
     */
    interface Hub {
        /** The Hub or a mirror of it (HF_ENDPOINT). */
        @WithDefault("https://huggingface.co")
        URI endpoint();

        /** An access token, for gated and private models (HF_TOKEN); sent to the Hub only, never to its CDN. */
        Optional<String> token();

        /** Never call the Hub; use only the copies in the store (HF_HUB_OFFLINE=1). */
        @WithDefault("false")
        boolean offline();

        /**
         * Where fetched models are kept, as {@code <this>/<id>@<commit>/}. Unset: {@code base-models/} beside
         * the {@code prepared/} or {@code models/} directory the request's output is in.
         */
        Optional<String> baseModels();

        /** How long a download may receive nothing before it is given up. */
        @WithDefault("60s")
        Duration stallTimeout();
    }
}
