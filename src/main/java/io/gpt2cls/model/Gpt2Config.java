package io.gpt2cls.model;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import com.fasterxml.jackson.annotation.JsonAnySetter;
import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The Hugging Face {@code config.json} of a GPT-2 sequence classifier.
 *
 * <p>Field names are the JSON keys {@code transformers} reads and writes, so a config written here
 * loads with {@code GPT2ForSequenceClassification.from_pretrained} and vice versa. Keys we do not
 * use are kept in {@link #other} and written back unchanged.
 *
 * <p>What is written follows {@code save_pretrained} of transformers {@value #TRANSFORMERS_VERSION}
 * ({@code PretrainedConfig.to_diff_dict}): every {@code GPT2Config} key, including those equal to
 * their defaults (they are not {@code PretrainedConfig} keys, so the diff keeps them), the
 * {@code PretrainedConfig} keys this model sets, {@code architectures} naming the class that saved
 * the weights, {@code transformers_version}, and the keys sorted as {@code json.dumps(sort_keys=True)}
 * sorts them.
 */
@JsonInclude(JsonInclude.Include.ALWAYS)
public final class Gpt2Config {

    /** GPT-2's only special token; it doubles as the padding token. */
    public static final int GPT2_END_OF_TEXT = 50256;

    /** The transformers release whose {@code save_pretrained} output our checkpoints follow. */
    public static final String TRANSFORMERS_VERSION = "4.46.3";

    /**
     * {@code save_pretrained} records the class that saved the weights; ours is always the sequence
     * classifier, also when the base model was saved as {@code GPT2LMHeadModel}.
     */
    public static final List<String> ARCHITECTURES = List.of("GPT2ForSequenceClassification");

    public static final String SINGLE_LABEL = "single_label_classification";

    static final ObjectMapper JSON = new ObjectMapper()
            .enable(SerializationFeature.INDENT_OUTPUT)
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    @JsonProperty("model_type") public String model_type = "gpt2";
    @JsonProperty("vocab_size") public int vocab_size = 50257;
    @JsonProperty("n_positions") public int n_positions = 1024;
    @JsonProperty("n_embd") public int n_embd = 768;
    @JsonProperty("n_layer") public int n_layer = 12;
    @JsonProperty("n_head") public int n_head = 12;
    /** MLP width; {@code null} means 4 * n_embd, as in Hugging Face. */
    @JsonProperty("n_inner") public Integer n_inner;
    @JsonProperty("activation_function") public String activation_function = "gelu_new";
    @JsonProperty("layer_norm_epsilon") public double layer_norm_epsilon = 1e-5;
    @JsonProperty("initializer_range") public double initializer_range = 0.02;
    @JsonProperty("embd_pdrop") public double embd_pdrop = 0.1;
    @JsonProperty("attn_pdrop") public double attn_pdrop = 0.1;
    @JsonProperty("resid_pdrop") public double resid_pdrop = 0.1;
    /** Divide attention scores by sqrt(head_size). */
    @JsonProperty("scale_attn_weights") public boolean scale_attn_weights = true;
    /** Also divide layer i's attention scores by i + 1 (a training-stability option from Stanford CRFM's Mistral). */
    @JsonProperty("scale_attn_by_inverse_layer_idx") public boolean scale_attn_by_inverse_layer_idx = false;
    /**
     * Compute attention scores in float32 with the scale applied inside the product: this model
     * computes in float32 throughout, so it already does what the flag asks.
     */
    @JsonProperty("reorder_and_upcast_attn") public boolean reorder_and_upcast_attn = false;
    /** A generation setting (key/value cache); classification does not use it. */
    @JsonProperty("use_cache") public boolean use_cache = true;
    // The summary_* keys configure GPT2DoubleHeadsModel's multiple-choice head, not this model's score
    // head; they are GPT2Config keys, so save_pretrained writes them and so do we.
    @JsonProperty("summary_type") public String summary_type = "cls_index";
    @JsonProperty("summary_use_proj") public boolean summary_use_proj = true;
    @JsonProperty("summary_activation") public String summary_activation;
    @JsonProperty("summary_proj_to_labels") public boolean summary_proj_to_labels = true;
    @JsonProperty("summary_first_dropout") public double summary_first_dropout = 0.1;
    @JsonProperty("bos_token_id") public Integer bos_token_id = GPT2_END_OF_TEXT;
    @JsonProperty("eos_token_id") public Integer eos_token_id = GPT2_END_OF_TEXT;
    /** The token batches are padded with and pooling skips; none by default, as in transformers. */
    @JsonProperty("pad_token_id") public Integer pad_token_id;
    @JsonProperty("id2label") public Map<String, String> id2label = defaultLabels(2);
    @JsonProperty("label2id") public Map<String, Integer> label2id;
    @JsonProperty("problem_type") public String problem_type = SINGLE_LABEL;
    @JsonProperty("torch_dtype") public String torch_dtype = "float32";

    @JsonIgnore private final Map<String, Object> other = new TreeMap<>();

    @JsonAnySetter
    void setOther(String key, Object value) {
        other.put(key, value);
    }

    @JsonAnyGetter
    Map<String, Object> getOther() {
        return other;
    }

    public static Gpt2Config read(Path file) throws IOException {
        try {
            Gpt2Config config = JSON.readValue(file.toFile(), Gpt2Config.class);
            config.validate(file.toString());
            return config;
        } catch (NoSuchFileException e) {
            throw new ModelFormatException("no config.json at " + file + ": a checkpoint directory needs config.json next to model.safetensors");
        } catch (JsonProcessingException e) {
            throw new ModelFormatException(file + " is not valid JSON: " + e.getOriginalMessage());
        }
    }

    public void write(Path file) throws IOException {
        Files.writeString(file, toJson());
    }

    public String toJson() {
        Map<String, Object> keys = new TreeMap<>(JSON.convertValue(this, new TypeReference<Map<String, Object>>() {}));
        keys.put("architectures", ARCHITECTURES);
        keys.put("transformers_version", TRANSFORMERS_VERSION);
        try {
            return JSON.writeValueAsString(keys) + "\n";
        } catch (JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Checks the fields the model depends on and fills {@code label2id} from {@code id2label}. */
    public void validate(String source) {
        if (model_type != null && !"gpt2".equals(model_type)) {
            throw new ModelFormatException(source + ": model_type is '" + model_type + "', but only 'gpt2' checkpoints are supported");
        }
        require(vocab_size > 0 && n_positions > 0 && n_layer > 0 && n_head > 0, source,
                "vocab_size, n_positions, n_layer and n_head must all be positive");
        require(n_embd > 0 && n_embd % n_head == 0, source,
                "n_embd (" + n_embd + ") must be a positive multiple of n_head (" + n_head + ")");
        require(id2label != null && !id2label.isEmpty(), source, "id2label must name at least one label");
        for (int i = 0; i < id2label.size(); i++) {
            require(id2label.containsKey(Integer.toString(i)), source,
                    "id2label must have the keys 0.." + (id2label.size() - 1) + "; key " + i + " is missing");
        }
        Map<String, Integer> derived = new LinkedHashMap<>();
        for (int i = 0; i < id2label.size(); i++) {
            derived.put(id2label.get(Integer.toString(i)), i);
        }
        require(derived.size() == id2label.size(), source, "id2label has duplicate label names: " + id2label.values());
        label2id = derived;
        if (problem_type == null) {
            problem_type = SINGLE_LABEL;
        }
        require(problem_type.equals(SINGLE_LABEL), source, "problem_type is '" + problem_type
                + "'; this classifier trains and serves only '" + SINGLE_LABEL + "' (one label per text)");
        if (pad_token_id != null) {
            require(pad_token_id >= 0 && pad_token_id < vocab_size, source,
                    "pad_token_id " + pad_token_id + " is outside the vocabulary (0.." + (vocab_size - 1) + ")");
        }
    }

    private static void require(boolean condition, String source, String message) {
        if (!condition) {
            throw new ModelFormatException(source + ": " + message);
        }
    }

    @JsonIgnore
    public int numLabels() {
        return id2label.size();
    }

    @JsonIgnore
    public int innerSize() {
        return n_inner != null ? n_inner : 4 * n_embd;
    }

    @JsonIgnore
    public int headSize() {
        return n_embd / n_head;
    }

    @JsonIgnore
    public List<String> labels() {
        List<String> labels = new ArrayList<>();
        for (int i = 0; i < numLabels(); i++) {
            labels.add(id2label.get(Integer.toString(i)));
        }
        return labels;
    }

    public void setLabels(List<String> labels) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < labels.size(); i++) {
            map.put(Integer.toString(i), labels.get(i));
        }
        id2label = map;
        validate("labels " + labels);
    }

    static Map<String, String> defaultLabels(int n) {
        Map<String, String> map = new LinkedHashMap<>();
        for (int i = 0; i < n; i++) {
            map.put(Integer.toString(i), "LABEL_" + i);
        }
        return map;
    }
}
