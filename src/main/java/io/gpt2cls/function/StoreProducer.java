package io.gpt2cls.function;

import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import jakarta.inject.Inject;

import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.StorageException;

/** The artifact store the functions use: local paths and s3:// locations, limited to the allowed locations. */
@ApplicationScoped
public class StoreProducer {

    @Inject
    AppConfig config;

    @Produces
    @ApplicationScoped
    ArtifactStore store() {
        List<Location> allowed = config.store().allowedLocations().orElse(List.of()).stream().map(Location::parse).toList();
        return new RoutingStore(new LocalStore(), () -> {
            throw new StorageException("s3:// locations need the S3 store, which this build does not have yet");
        }, allowed);
    }
}
