package io.gpt2cls.function;

import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** An {@link AppConfig} for services built by hand in plain tests; only what a test sets differs from the defaults. */
final class TestConfig implements AppConfig {

    String model;
    boolean loadOnStart;
    Duration refreshInterval;
    int maxTexts = 64;
    int maxBytesPerText = 100_000;
    int tokensPerForward = 1024;
    List<String> allowedLocations;

    @Override
    public Store store() {
        return new Store() {
            @Override
            public Optional<List<String>> allowedLocations() {
                return Optional.ofNullable(allowedLocations);
            }

            @Override
            public S3 s3() {
                throw new UnsupportedOperationException("plain tests build their S3 store themselves");
            }
        };
    }

    @Override
    public Classify classify() {
        return new Classify() {
            @Override
            public Optional<String> model() {
                return Optional.ofNullable(model);
            }

            @Override
            public boolean loadOnStart() {
                return loadOnStart;
            }

            @Override
            public Optional<Duration> refreshInterval() {
                return Optional.ofNullable(refreshInterval);
            }

            @Override
            public int maxTexts() {
                return maxTexts;
            }

            @Override
            public int maxBytesPerText() {
                return maxBytesPerText;
            }

            @Override
            public int tokensPerForward() {
                return tokensPerForward;
            }
        };
    }

    @Override
    public Prepare prepare() {
        return new Prepare() {
            @Override
            public int workers() {
                return 1;
            }

            @Override
            public io.quarkus.runtime.configuration.MemorySize taskSize() {
                return new io.quarkus.runtime.configuration.MemorySize(java.math.BigInteger.valueOf(256L << 20));
            }

            @Override
            public Optional<String> stateMachine() {
                return Optional.empty();
            }

            @Override
            public io.quarkus.runtime.configuration.MemorySize distributedAbove() {
                return new io.quarkus.runtime.configuration.MemorySize(java.math.BigInteger.valueOf(2L << 30));
            }

            @Override
            public int mapConcurrency() {
                return 100;
            }
        };
    }

    @Override
    public Optional<String> job() {
        return Optional.empty();
    }

    @Override
    public Optional<String> jobRequest() {
        return Optional.empty();
    }

    @Override
    public Finetune finetune() {
        return new Finetune() {
            @Override
            public Duration stopTimeout() {
                return Duration.ofSeconds(100);
            }

            @Override
            public Optional<Boolean> jsonLogs() {
                return Optional.of(false);
            }
        };
    }
}
