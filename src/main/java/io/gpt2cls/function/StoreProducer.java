package io.gpt2cls.function;

import java.nio.file.Path;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Inject;

import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.S3Settings;
import io.gpt2cls.storage.S3Store;
import io.quarkus.runtime.configuration.MemorySize;

/** The artifact store the functions use: local paths and s3:// locations, limited to the allowed locations. */
@ApplicationScoped
public class StoreProducer {

    @Inject
    AppConfig config;

    @Produces
    @ApplicationScoped
    ArtifactStore store() {
        List<Location> allowed = config.store().allowedLocations().orElse(List.of()).stream().map(Location::parse).toList();
        // the S3 client is made on first use: a purely local run needs no AWS set-up
        return new RoutingStore(new LocalStore(), () -> S3Store.create(s3Settings(config.store().s3())), allowed);
    }

    static S3Settings s3Settings(AppConfig.S3 s3) {
        return new S3Settings(Path.of(s3.cacheDir()), s3.multipartThreshold().asLongValue(), s3.partSize().asLongValue(),
                s3.concurrency(), s3.maxAttempts(), s3.pathStyle(), s3.endpoint(), s3.cacheMaxSize().map(MemorySize::asLongValue),
                s3.cacheMaxShare());
    }
}
