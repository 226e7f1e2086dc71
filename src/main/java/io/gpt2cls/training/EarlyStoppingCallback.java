package io.gpt2cls.training;

import java.util.LinkedHashMap;
import java.util.Map;

import org.jboss.logging.Logger;

/**
 * Hugging Face's {@code EarlyStoppingCallback}: stops training when {@code metric_for_best_model}
 * has not improved on the best so far by more than {@code early_stopping_threshold} for
 * {@code early_stopping_patience} evaluations in a row. With load_best_model_at_end the final model
 * is then the best checkpoint's.
 *
 * <p>The counter lives in {@code trainer_state.json}'s {@code stateful_callbacks}, where
 * transformers keeps it, so a resumed run goes on counting where the interrupted one stopped.
 */
public final class EarlyStoppingCallback implements TrainerCallback {

    private static final Logger LOG = Logger.getLogger(EarlyStoppingCallback.class);
    static final String NAME = "EarlyStoppingCallback";
    static final String COUNTER = "early_stopping_patience_counter";

    private final TrainingArguments args;

    public EarlyStoppingCallback(TrainingArguments args) {
        this.args = args;
    }

    @Override
    public void onTrainBegin(TrainerState state, TrainerControl control) {
        state.stateful_callbacks.computeIfAbsent(NAME, name -> {
            Map<String, Map<String, Object>> entry = new LinkedHashMap<>();
            Map<String, Object> callbackArgs = new LinkedHashMap<>();
            callbackArgs.put("early_stopping_patience", args.early_stopping_patience);
            callbackArgs.put("early_stopping_threshold", args.early_stopping_threshold);
            entry.put("args", callbackArgs);
            entry.put("attributes", new LinkedHashMap<>(Map.of(COUNTER, 0)));
            return entry;
        });
    }

    @Override
    public void onEvaluate(TrainerState state, TrainerControl control, ClassificationMetrics metrics) {
        double value = metrics.metric(args.bestModelMetric());
        Map<String, Object> attributes = state.stateful_callbacks.get(NAME).get("attributes");
        int counter = ((Number) attributes.get(COUNTER)).intValue();
        boolean improved = state.best_metric == null
                || ((args.greaterIsBetter() ? value > state.best_metric : value < state.best_metric)
                        && Math.abs(value - state.best_metric) > args.early_stopping_threshold);
        counter = improved ? 0 : counter + 1;
        attributes.put(COUNTER, counter);
        if (counter >= args.early_stopping_patience) {
            LOG.infof("early stopping at step %d: %s has not improved on %.4f for %d evaluations", state.global_step,
                    args.metric_for_best_model, state.best_metric, counter);
            control.shouldTrainingStop = true;
        }
    }
}
