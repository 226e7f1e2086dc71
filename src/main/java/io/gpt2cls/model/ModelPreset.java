package io.gpt2cls.model;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;

/** Shapes for fresh, randomly initialised GPT-2 classifiers, all with GPT-2's 50257-token vocabulary. */
public enum ModelPreset {
    /** 2 layers, 4 heads, 128 wide: trains in minutes on a laptop CPU. */
    TINY("tiny", 2, 4, 128, 512),
    /** The shapes of the 124M-parameter Hub {@code gpt2} checkpoint. */
    GPT2_SMALL("gpt2-small", 12, 12, 768, 1024),
    GPT2_MEDIUM("gpt2-medium", 24, 16, 1024, 1024);

    public final String id;
    public final int layers;
    public final int heads;
    public final int width;
    public final int positions;

    ModelPreset(String id, int layers, int heads, int width, int positions) {
        this.id = id;
        this.layers = layers;
        this.heads = heads;
        this.width = width;
        this.positions = positions;
    }

    public Gpt2Config config(List<String> labels) {
        Gpt2Config config = new Gpt2Config();
        config.n_layer = layers;
        config.n_head = heads;
        config.n_embd = width;
        config.n_positions = positions;
        config.pad_token_id = config.eos_token_id; // GPT-2 has no pad token: batches are padded with <|endoftext|>
        config.setOther("_name_or_path", "random-" + id);
        config.setLabels(labels);
        return config;
    }

    public static ModelPreset byId(String id) {
        return Arrays.stream(values())
                .filter(p -> p.id.equals(id.toLowerCase(Locale.ROOT)))
                .findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown model preset '" + id + "'; choose one of "
                        + Arrays.stream(values()).map(p -> p.id).collect(Collectors.joining(", "))));
    }
}
