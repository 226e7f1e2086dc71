package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.InputFiles;
import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.dataset.PrepareSummary;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;

@ApplicationScoped
public class PrepareService {

    /** What the manifest names as the tokenizer when the request gives none. */
    static final String BUILT_IN_TOKENIZER = "gpt2 (built in)";

    @Inject
    ArtifactStore store;

    public PrepareResponse prepare(PrepareRequest request) {
        request.rejectUnknownFields();
        StrictRequest.requireField(request.train, "train", "the location of a .jsonl or .csv file with text and label columns");
        StrictRequest.requireField(request.output, "output", "where the prepared dataset goes");
        Location output = Location.parse(request.output);
        try (ArtifactStore.Staging staging = store.stage(output, Manifest.FILE)) {
            PrepareSpec spec = new PrepareSpec();
            spec.trainFiles = inputFiles(request.train);
            spec.trainLocation = request.train;
            spec.testFiles = request.test == null ? null : inputFiles(request.test);
            spec.testLocation = request.test;
            spec.tokenizer = request.tokenizer == null ? Gpt2TokenizerBuilder.cached() : store.fetchFile(Location.parse(request.tokenizer));
            spec.tokenizerLocation = request.tokenizer == null ? BUILT_IN_TOKENIZER : request.tokenizer;
            spec.outputDir = staging.dir();
            spec.textColumn = request.textColumn;
            spec.labelColumn = request.labelColumn;
            spec.maxLength = request.maxLength;
            spec.truncationSide = request.truncationSide;
            spec.testFraction = request.testFraction;
            spec.seed = request.seed;
            spec.labels = request.labels;
            spec.maxShardBytes = request.maxShardBytes;
            spec.dropLeakedTestRows = request.dropLeakedTestRows;
            PrepareSummary summary = new DatasetPreparer().prepare(spec);
            staging.commit();
            return PrepareResponse.of(output, summary);
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
    }

    /** A file, the dataset files in a directory or prefix, or the files a pattern in the last segment matches. */
    private List<InputFile> inputFiles(String given) throws IOException {
        boolean pattern = InputFiles.isPattern(given);
        Location where = Location.parse(pattern ? InputFiles.directoryOf(given) : given);
        List<Location> listed = store.listFiles(where);
        if (!pattern && listed.isEmpty()) {
            return List.of(new InputFile(store.fetchFile(where), where.toString()));
        }
        List<InputFile> files = new ArrayList<>();
        for (String name : InputFiles.select(given, listed.stream().map(Location::name).toList())) {
            Location file = where.resolve(name);
            files.add(new InputFile(store.fetchFile(file), file.toString()));
        }
        return files;
    }
}
