package io.gpt2cls.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

import io.gpt2cls.runtime.NativeRuntime;
import io.gpt2cls.tensors.Safetensors;

/**
 * A model directory in the Hugging Face layout: {@code config.json} + {@code model.safetensors}.
 *
 * <p>Reads Hub checkpoints ({@code h.0.attn.c_attn.weight}, {@code wte.weight}) and
 * {@code save_pretrained} ones ({@code transformer.}-prefixed + {@code score.weight}); writes the
 * latter, in module order. Pickle files are refused: loading them can run arbitrary code.
 */
public final class ModelCheckpoint {

    public static final String CONFIG_FILE = "config.json";
    public static final String WEIGHTS_FILE = "model.safetensors";
    private static final String TRUNK_PREFIX = "transformer.";
    private static final String SCORE_WEIGHT = "score.weight";
    private static final List<String> PICKLE_SUFFIXES = List.of(".bin", ".pt", ".pth", ".ckpt", ".pkl");
    /** How to turn a pickle checkpoint into one this project reads. */
    public static final String CONVERT_PICKLE = "GPT2ForSequenceClassification.from_pretrained(dir).save_pretrained(dir, safe_serialization=True)";

    private static final Logger LOG = Logger.getLogger(ModelCheckpoint.class);

    private ModelCheckpoint() {}

    public static Gpt2ForSequenceClassification load(Path dir, NDManager parent) throws IOException {
        return load(dir, parent, null);
    }

    /**
     * Loads the model in {@code dir}. With {@code labels} given and different from the
     * checkpoint's, the config takes the new labels and the score head starts fresh (a base model
     * being fine-tuned for a new task).
     */
    public static Gpt2ForSequenceClassification load(Path dir, NDManager parent, List<String> labels) throws IOException {
        NativeRuntime.init();
        if (!Files.isDirectory(dir)) {
            throw new ModelFormatException("model directory " + dir + " does not exist; pass a directory holding "
                    + CONFIG_FILE + " and " + WEIGHTS_FILE);
        }
        Gpt2Config config = Gpt2Config.read(dir.resolve(CONFIG_FILE));
        Path weightsFile = dir.resolve(WEIGHTS_FILE);
        if (!Files.exists(weightsFile)) {
            throw new ModelFormatException(missingWeightsMessage(dir));
        }
        boolean newHead = labels != null && !labels.equals(config.labels());
        if (newHead) {
            LOG.infof("%s has labels %s; fine-tuning for %s with a freshly initialised score head",
                    dir, config.labels(), labels);
            config.setLabels(labels);
        }
        Map<String, Safetensors.Tensor> byName = new LinkedHashMap<>();
        for (Map.Entry<String, Safetensors.Tensor> e : Safetensors.read(weightsFile).entrySet()) {
            String name = savePretrainedName(e.getKey());
            if (!Gpt2ForSequenceClassification.isIgnoredWeight(e.getKey()) && !(newHead && name.equals(SCORE_WEIGHT))) {
                byName.put(name, e.getValue());
            }
        }
        NDManager manager = parent.newSubManager();
        Gpt2ForSequenceClassification model;
        try {
            model = new Gpt2ForSequenceClassification(config, manager, new FileWeights(weightsFile, byName, manager, config));
        } catch (RuntimeException e) {
            manager.close();
            throw e;
        }
        Set<String> unused = new TreeSet<>(byName.keySet());
        unused.removeAll(model.namedParameters().keySet());
        if (!unused.isEmpty()) {
            LOG.warnf("%s: ignoring %d tensors this model does not use: %s", weightsFile, unused.size(), unused);
        }
        return model;
    }

    /** A Hub name ({@code h.0.ln_1.weight}) under the trunk's prefix, as save_pretrained writes it. */
    private static String savePretrainedName(String name) {
        return name.startsWith(TRUNK_PREFIX) || name.equals(SCORE_WEIGHT) ? name : TRUNK_PREFIX + name;
    }

    /** Writes {@code config.json} and {@code model.safetensors} into {@code dir} (created if needed). */
    public static void save(Gpt2ForSequenceClassification model, Path dir) throws IOException {
        Files.createDirectories(dir);
        model.config.write(dir.resolve(CONFIG_FILE));
        Safetensors.writeArrays(dir.resolve(WEIGHTS_FILE), model.namedParameters(), Map.of());
    }

    private static String missingWeightsMessage(Path dir) throws IOException {
        if (Files.exists(dir.resolve(WEIGHTS_FILE + ".index.json"))) {
            return dir + " holds a sharded checkpoint (model.safetensors.index.json); GPT-2 sizes fit one file: "
                    + "re-save it with save_pretrained(dir, max_shard_size=\"10GB\")";
        }
        List<String> pickles;
        try (Stream<Path> files = Files.list(dir)) {
            pickles = files.map(p -> p.getFileName().toString())
                    .filter(ModelCheckpoint::isPickle)
                    .sorted().collect(Collectors.toList());
        }
        if (!pickles.isEmpty()) {
            return dir + " holds only " + pickles + ": pickle checkpoints are refused because loading them can run"
                    + " arbitrary code. Convert once in Python: " + CONVERT_PICKLE;
        }
        return "no " + WEIGHTS_FILE + " in " + dir;
    }

    /** Whether a file name is a pickle checkpoint (pytorch_model.bin and kin), which is never loaded. */
    public static boolean isPickle(String fileName) {
        return PICKLE_SUFFIXES.stream().anyMatch(fileName::endsWith);
    }

    /** Makes the model's weights from the file's tensors, checking names and shapes. */
    private static final class FileWeights implements Gpt2ForSequenceClassification.WeightSource.Maker {
        private final Path file;
        private final Map<String, Safetensors.Tensor> tensors;
        private final NDManager manager;
        private final Gpt2Config config;

        FileWeights(Path file, Map<String, Safetensors.Tensor> tensors, NDManager manager, Gpt2Config config) {
            this.file = file;
            this.tensors = tensors;
            this.manager = manager;
            this.config = config;
        }

        @Override
        public NDArray make(String name, Shape shape) {
            Safetensors.Tensor tensor = tensors.get(name);
            if (tensor == null && name.equals(SCORE_WEIGHT)) {
                LOG.infof("%s has no score.weight: initialising the classification head ~ N(0, %s) for %d labels",
                        file, config.initializer_range, config.numLabels());
                float[] values = new float[Math.toIntExact(shape.size())];
                Random random = new Random(shape.size());
                for (int i = 0; i < values.length; i++) {
                    values[i] = (float) (random.nextGaussian() * config.initializer_range);
                }
                return manager.create(values, shape);
            }
            if (tensor == null) {
                throw new ModelFormatException(file + " has no tensor '" + name + "' (nor '" + name.substring(TRUNK_PREFIX.length())
                        + "'), which a GPT-2 of n_layer=" + config.n_layer + " needs; is config.json the one for these weights?");
            }
            if (!new Shape(tensor.shape()).equals(shape)) {
                throw new ModelFormatException(file + ": tensor '" + name + "' has shape " + new Shape(tensor.shape())
                        + " but config.json implies " + shape + "; config.json and model.safetensors do not match");
            }
            return Safetensors.toNDArray(tensor, manager, name);
        }
    }
}
