package io.gpt2cls.training;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2Config;

/** A tiny, learnable task: class 0 rows use tokens 10..49, class 1 rows tokens 50..89, lengths vary. */
final class SyntheticData implements LabeledSequences {
    private final List<int[]> rows = new ArrayList<>();
    private final List<Integer> labels = new ArrayList<>();

    SyntheticData(int size, long seed) {
        Random random = new Random(seed);
        for (int i = 0; i < size; i++) {
            int label = i % 2;
            int[] tokens = new int[3 + random.nextInt(14)];
            for (int t = 0; t < tokens.length; t++) {
                tokens[t] = (label == 0 ? 10 : 50) + random.nextInt(40);
            }
            rows.add(tokens);
            labels.add(label);
        }
    }

    static Gpt2Config tinyConfig(double dropout) {
        Gpt2Config config = new Gpt2Config();
        config.vocab_size = 100;
        config.n_positions = 32;
        config.n_embd = 32;
        config.n_layer = 2;
        config.n_head = 4;
        config.pad_token_id = 99;
        config.embd_pdrop = dropout;
        config.attn_pdrop = dropout;
        config.resid_pdrop = dropout;
        config.setLabels(List.of("low", "high"));
        return config;
    }

    @Override
    public int size() {
        return rows.size();
    }

    @Override
    public int[] tokens(int row) {
        return rows.get(row);
    }

    @Override
    public int label(int row) {
        return labels.get(row);
    }
}
