package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;

import org.jboss.logging.Logger;

import io.gpt2cls.dataset.DatasetPreparer;
import io.gpt2cls.dataset.InputFile;
import io.gpt2cls.dataset.InputFiles;
import io.gpt2cls.dataset.Manifest;
import io.gpt2cls.dataset.PrepareSpec;
import io.gpt2cls.dataset.PrepareSummary;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;
import io.gpt2cls.storage.PublishConflictException;
import io.gpt2cls.tokenizer.Gpt2TokenizerBuilder;
import io.gpt2cls.tokenizer.TruncationSide;

@ApplicationScoped
public class PrepareService {

    /** What the manifest names as the tokenizer when the request gives none. */
    static final String BUILT_IN_TOKENIZER = "gpt2 (built in)";
    private static final Logger LOG = Logger.getLogger(PrepareService.class);

    @Inject
    ArtifactStore store;

    @Inject
    BaseModels baseModels;

    public PrepareResponse prepare(PrepareRequest request) {
        StrictRequest.requireValid(request);
        if (request.triggeredBy != null) {
            return prepareUploads(request.triggeredBy);
        }
        checkTruncationSide(request.truncationSide);
        StrictRequest.requireField(request.train, "train", "the location of a .jsonl or .csv file with text and label columns");
        StrictRequest.requireField(request.output, "output", "where the prepared dataset goes");
        Location output = Location.parse(request.output);
        PrepareSpec spec = new PrepareSpec();
        List<Path> fetched = new ArrayList<>(); // downloads, deleted when done: a warm container's disk must not fill up
        Optional<Location> recipe;
        List<Location> trainFiles;
        List<Location> testFiles;
        PreparedFrom inputs;
        try {
            recipe = finetuneRecipe(request.train, fetched);
            trainFiles = inputLocations(request.train);
            testFiles = request.test == null ? List.of() : inputLocations(request.test);
            spec.trainLocation = request.train;
            spec.testLocation = request.test;
            BaseModels.Source tokenizer = request.tokenizer == null ? null : baseModels.resolve(request.tokenizer, "tokenizer", output);
            if (tokenizer != null) {
                spec.tokenizer = Tokenizers.fetch(store, tokenizer.location());
                fetched.add(spec.tokenizer.getParent()); // the set it came with
            } else {
                spec.tokenizer = Gpt2TokenizerBuilder.cached();
            }
            spec.tokenizerLocation = tokenizer == null ? BUILT_IN_TOKENIZER : tokenizer.name();
            inputs = PreparedFrom.of(store, request, trainFiles, testFiles, recipe, spec.tokenizer);
        } catch (IOException e) {
            release(fetched);
            throw new UncheckedIOException(e.getMessage(), e);
        }
        ArtifactStore.Staging staging;
        try {
            staging = store.stage(output, Manifest.FILE, inputs.purpose());
        } catch (PublishConflictException busy) {
            release(fetched);
            if (busy.holder().map(holder -> inputs.purpose().equals(holder.purpose())).orElse(false)) {
                return PrepareResponse.skipped(output, output + " is being prepared from these same inputs (inputs version "
                        + inputs.version() + ") by " + busy.holder().get().describe() + "; nothing to do", inputs.version());
            }
            throw busy;
        } catch (IOException e) {
            release(fetched);
            throw new UncheckedIOException(e.getMessage(), e);
        }
        try (staging) {
            Optional<String> done = PreparedFrom.recordedVersion(store, output);
            if (done.isPresent() && done.get().equals(inputs.version())) {
                return PrepareResponse.skipped(output, output + " already holds the dataset prepared from these inputs (inputs"
                        + " version " + inputs.version() + "); nothing to do", inputs.version());
            }
            spec.trainFiles = fetch(trainFiles, fetched);
            spec.testFiles = request.test == null ? null : fetch(testFiles, fetched);
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
            if (recipe.isPresent()) {
                fetched.add(store.fetchFile(recipe.get()));
                Files.copy(fetched.get(fetched.size() - 1), staging.dir().resolve(FinetuneRecipe.FILE));
            }
            inputs.recordIn(staging.dir().resolve(Manifest.FILE));
            staging.commit();
            PrepareResponse response = PrepareResponse.of(output, summary);
            response.finetuneRecipe = recipe.map(Location::toString).orElse(null);
            response.inputsVersion = inputs.version();
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        } finally {
            release(fetched);
        }
    }

    /** One run per announced object (S3 sends one per event); the answer is the last run's. */
    private PrepareResponse prepareUploads(List<PrepareTrigger.ObjectCreated> objects) {
        PrepareResponse response = null;
        for (PrepareTrigger.ObjectCreated object : objects) {
            PrepareTrigger.Resolution resolution;
            try {
                resolution = PrepareTrigger.resolve(object, store);
            } catch (IOException e) {
                throw new UncheckedIOException(e.getMessage(), e);
            }
            if (resolution.skipped() != null) {
                LOG.infof("upload s3://%s/%s: skipped, %s", object.bucket(), object.key(), resolution.skipped());
                response = new PrepareResponse();
                response.skipped = resolution.skipped();
            } else {
                LOG.infof("upload s3://%s/%s: preparing %s into %s", object.bucket(), object.key(), resolution.request().train,
                        resolution.request().output);
                response = prepare(resolution.request());
            }
            response.triggeredBy = object.location().toString();
        }
        return response;
    }

    private static void checkTruncationSide(String side) {
        try {
            TruncationSide.parse(side);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("truncation_side", "field 'truncation_side': " + e.getMessage());
        }
    }

    /**
     * The training recipe that travels with the dataset: {@code finetune.json} beside the training
     * input (in it, when the input is a directory), checked now so a mistake shows before the dataset
     * is published and a GPU job starts on it.
     */
    private Optional<Location> finetuneRecipe(String train, List<Path> fetched) throws IOException {
        Location dir;
        if (InputFiles.isPattern(train)) {
            dir = Location.parse(InputFiles.directoryOf(train));
        } else {
            Location given = Location.parse(train);
            dir = store.listFiles(given).isEmpty() ? given.parent() : given;
        }
        Location recipe = dir.resolve(FinetuneRecipe.FILE);
        if (!store.listFiles(dir).contains(recipe)) {
            return Optional.empty();
        }
        fetched.add(store.fetchFile(recipe));
        FinetuneRecipe.read(fetched.get(fetched.size() - 1), recipe.toString());
        return Optional.of(recipe);
    }

    /** A file, the dataset files in a directory or prefix, or the files a pattern in the last segment matches. */
    private List<Location> inputLocations(String given) throws IOException {
        boolean pattern = InputFiles.isPattern(given);
        Location where = Location.parse(pattern ? InputFiles.directoryOf(given) : given);
        List<Location> listed = store.listFiles(where);
        if (!pattern && listed.isEmpty()) {
            return List.of(where);
        }
        return InputFiles.select(given, listed.stream().map(Location::name).toList()).stream().map(where::resolve).toList();
    }

    private List<InputFile> fetch(List<Location> locations, List<Path> fetched) throws IOException {
        List<InputFile> files = new ArrayList<>();
        for (Location file : locations) {
            fetched.add(store.fetchFile(file));
            files.add(new InputFile(fetched.get(fetched.size() - 1), file.toString()));
        }
        return files;
    }

    /** Lets the store delete its copies of what this run fetched (S3 downloads; local files stay where they are). */
    private void release(List<Path> fetched) {
        for (Path file : fetched) {
            try {
                store.release(file);
            } catch (IOException | RuntimeException e) {
                LOG.warnf("could not delete the downloaded %s: %s", file, e.getMessage());
            }
        }
    }
}
