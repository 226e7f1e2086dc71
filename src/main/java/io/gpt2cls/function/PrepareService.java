package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.dataset.PrepareSummary;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

@ApplicationScoped
public class PrepareService {

    @Inject
    ArtifactStore store;

    public PrepareResponse prepare(PrepareRequest request) {
        request.rejectUnknownFields();
        StrictRequest.requireField(request.train, "train", "the location of a .jsonl or .csv file with text and label columns");
        StrictRequest.requireField(request.output, "output", "where the prepared dataset goes");
        try {
            PrepareSpec spec = new PrepareSpec();
            spec.trainFile = store.fetch(request.train);
            spec.testFile = request.test == null ? null : store.fetch(request.test);
            spec.tokenizer = request.tokenizer == null ? Gpt2TokenizerBuilder.cached() : store.fetch(request.tokenizer);
            Path output = store.workDir(request.output);
            spec.outputDir = output;
            spec.textColumn = request.textColumn;
            spec.labelColumn = request.labelColumn;
            spec.maxLength = request.maxLength;
            spec.truncationSide = request.truncationSide;
            spec.testFraction = request.testFraction;
            spec.seed = request.seed;
            spec.labels = request.labels;
            PrepareSummary summary = new DatasetPreparer().prepare(spec);
            store.publish(output, request.output);
            return PrepareResponse.of(request.output, summary);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }
}
