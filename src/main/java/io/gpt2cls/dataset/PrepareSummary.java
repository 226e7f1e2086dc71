package io.gpt2cls.dataset;

import java.util.List;
import java.util.Map;

/**
 * What a {@code prepare} run did, for its caller: counts overall and per input file, how the test
 * split was made, each split's class counts, duplicates and token lengths, the train/test leakage, and
 * the first rejections. The full record is {@code manifest.json} and {@code rejected.jsonl} in the output.
 */
public record PrepareSummary(
        long rowsRead,
        long accepted,
        long rejected,
        List<String> labels,
        List<Manifest.Source> sources,
        Manifest.SplitMethod split,
        Map<String, Manifest.SplitStats> splits,
        Manifest.Leakage leakage,
        List<Rejection> firstRejections) {

    static final int FIRST_REJECTIONS = 20;

    static PrepareSummary of(Manifest manifest, List<Rejection> rejections) {
        return new PrepareSummary(
                manifest.sources().stream().mapToLong(Manifest.Source::rowsRead).sum(),
                manifest.sources().stream().mapToLong(Manifest.Source::accepted).sum(),
                manifest.sources().stream().mapToLong(Manifest.Source::rejected).sum(),
                manifest.labels(),
                manifest.sources(),
                manifest.split(),
                manifest.splits(),
                manifest.leakage(),
                List.copyOf(rejections.subList(0, Math.min(FIRST_REJECTIONS, rejections.size()))));
    }

    public Manifest.SplitStats split(String name) {
        return splits.get(name);
    }
}
