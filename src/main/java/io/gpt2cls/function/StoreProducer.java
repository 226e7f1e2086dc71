package io.gpt2cls.function;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Produces;

import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.LocalStore;

/** The artifact store the functions use: the local file system, the embedded default. */
@ApplicationScoped
public class StoreProducer {

    @Produces
    @ApplicationScoped
    ArtifactStore store() {
        return new LocalStore();
    }
}
