package io.gpt2cls.hub;

import io.gpt2cls.storage.ArtifactNotFoundException;

/** No such repository, revision or file on the Hub (404): a caller sees it as "not found". */
public class HubNotFoundException extends ArtifactNotFoundException {
    public HubNotFoundException(String message) {
        super(message);
    }
}
