package io.gpt2cls.function;

import java.math.BigInteger;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

import io.quarkus.runtime.configuration.MemorySize;

/** An {@link AppConfig} for services built by hand in plain tests; only what a test sets differs from the defaults. */
final class TestConfig implements AppConfig {

    String model;
    boolean loadOnStart;
    Duration refreshInterval;
    int maxTexts = 64;
    int maxBytesPerText = 100_000;
    int tokensPerForward = 1024;
    long modelMemory = 1L << 30;
    boolean allowCheckpoints;
    List<String> allowedLocations;
    URI hubEndpoint = URI.create("http://127.0.0.1:9/no-hub-in-tests");
    String hubToken;
    boolean hubOffline;
    String baseModels;

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

            @Override
            public boolean packedProducts() {
                return true;
            }

            @Override
            public MemorySize modelMemory() {
                return new MemorySize(BigInteger.valueOf(modelMemory));
            }

            @Override
            public boolean allowCheckpoints() {
                return allowCheckpoints;
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
            public Duration stopDeadline() {
                return Duration.ofSeconds(25);
            }

            @Override
            public SpotNotice spotNotice() {
                return new SpotNotice() { // tests never look for EC2
                    @Override
                    public boolean enabled() {
                        return false;
                    }

                    @Override
                    public Optional<java.net.URI> endpoint() {
                        return Optional.empty();
                    }

                    @Override
                    public Duration pollInterval() {
                        return Duration.ofSeconds(5);
                    }
                };
            }

            @Override
            public Optional<Duration> attemptTimeout() {
                return Optional.empty();
            }

            @Override
            public Duration deadlineMargin() {
                return Duration.ofMinutes(10);
            }

            @Override
            public Optional<Boolean> jsonLogs() {
                return Optional.of(false);
            }
        };
    }

    @Override
    public Hub hub() {
        return new Hub() {
            @Override
            public URI endpoint() {
                return hubEndpoint;
            }

            @Override
            public Optional<String> token() {
                return Optional.ofNullable(hubToken);
            }

            @Override
            public boolean offline() {
                return hubOffline;
            }

            @Override
            public Optional<String> baseModels() {
                return Optional.ofNullable(baseModels);
            }

            @Override
            public Duration stallTimeout() {
                return Duration.ofSeconds(5);
            }
        };
    }
}
