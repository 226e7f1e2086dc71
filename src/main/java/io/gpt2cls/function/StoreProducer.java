package io.gpt2cls.function;

import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import org.eclipse.microprofile.config.inject.ConfigProperty;

import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.RoutingStore;
import io.gpt2cls.storage.S3Settings;
import io.gpt2cls.storage.S3Store;

/** The artifact store the functions use: local paths and s3:// locations, limited to the allowed locations. */
@ApplicationScoped
public class StoreProducer {

    @ConfigProperty(name = "gpt2cls.store.allowed-locations")
    Optional<List<String>> allowedLocations;

    @Produces
    @ApplicationScoped
    ArtifactStore store() {
        List<Location> allowed = allowedLocations.orElse(List.of()).stream().map(Location::parse).toList();
        return new RoutingStore(new LocalStore(), () -> S3Store.create(S3Settings.defaults()), allowed);
    }
}
