package io.gpt2cls.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.List;
import java.util.Random;
import java.util.stream.IntStream;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.TokenBatch;

/** Which rows go into which batch, and the padded batches themselves. */
public final class BatchPlan {

    /** Hugging Face's LengthGroupedSampler sorts windows of 50 batches by length. */
    private static final int MEGABATCH_FACTOR = 50;

    private BatchPlan() {}

    /**
     * The training batches of one epoch: a seeded shuffle (seed + epoch, so every epoch differs
     * and a rerun repeats), optionally grouped by length, cut into batches of {@code batchSize}.
     */
    public static List<int[]> trainingEpoch(LabeledSequences data, int batchSize, long seed, int epoch, boolean groupByLength) {
        List<Integer> order = new ArrayList<>(IntStream.range(0, data.size()).boxed().toList());
        Collections.shuffle(order, new Random(seed + epoch));
        if (groupByLength) {
            int window = MEGABATCH_FACTOR * batchSize;
            for (int start = 0; start < order.size(); start += window) {
                order.subList(start, Math.min(order.size(), start + window))
                        .sort(Comparator.comparingInt(data::length).reversed());
            }
        }
        return chunk(order, batchSize);
    }

    /** Evaluation batches: rows sorted by length, so little compute goes into padding. */
    public static List<int[]> evaluation(LabeledSequences data, int batchSize) {
        List<Integer> order = new ArrayList<>(IntStream.range(0, data.size()).boxed().toList());
        order.sort(Comparator.comparingInt(data::length));
        return chunk(order, batchSize);
    }

    public static TokenBatch batch(LabeledSequences data, int[] rows, int padId) {
        return TokenBatch.rightPadded(Arrays.stream(rows).mapToObj(data::tokens).toList(), padId);
    }

    public static int[] labels(LabeledSequences data, int[] rows) {
        return Arrays.stream(rows).map(data::label).toArray();
    }

    private static List<int[]> chunk(List<Integer> order, int batchSize) {
        List<int[]> batches = new ArrayList<>();
        for (int start = 0; start < order.size(); start += batchSize) {
            batches.add(order.subList(start, Math.min(order.size(), start + batchSize)).stream().mapToInt(Integer::intValue).toArray());
        }
        return batches;
    }
}
