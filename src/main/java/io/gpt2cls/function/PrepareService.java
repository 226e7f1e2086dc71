package io.gpt2cls.function;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.nio.file.Files;
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
        Optional<Location> recipe;
        try {
            recipe = finetuneRecipe(request.train);
            spec.trainFiles = inputFiles(request.train);
            spec.trainLocation = request.train;
            spec.testFiles = request.test == null ? null : inputFiles(request.test);
            spec.testLocation = request.test;
            BaseModels.Source tokenizer = request.tokenizer == null ? null : baseModels.resolve(request.tokenizer, "tokenizer", output);
            spec.tokenizer = tokenizer == null ? Gpt2TokenizerBuilder.cached() : Tokenizers.fetch(store, tokenizer.location());
            spec.tokenizerLocation = tokenizer == null ? BUILT_IN_TOKENIZER : tokenizer.name();
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
        }
        try (ArtifactStore.Staging staging = store.stage(output, Manifest.FILE)) {
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
                Files.copy(store.fetchFile(recipe.get()), staging.dir().resolve(FinetuneRecipe.FILE));
            }
            staging.commit();
            PrepareResponse response = PrepareResponse.of(output, summary);
            response.finetuneRecipe = recipe.map(Location::toString).orElse(null);
            return response;
        } catch (IOException e) {
            throw new UncheckedIOException(e.getMessage(), e);
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
    private Optional<Location> finetuneRecipe(String train) throws IOException {
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
        FinetuneRecipe.read(store.fetchFile(recipe), recipe.toString());
        return Optional.of(recipe);
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
