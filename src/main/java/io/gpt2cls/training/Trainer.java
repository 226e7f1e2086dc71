package io.gpt2cls.training;

import java.io.IOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.jboss.logging.Logger;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.training.GradientCollector;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.storage.Location;

/**
 * Fine-tunes a GPT-2 classifier with Hugging Face {@code Trainer} semantics: AdamW with decoupled
 * weight decay, linear schedule with warmup, global-norm clipping, gradient accumulation, dynamic
 * padding, evaluation and a checkpoint every epoch, {@code trainer_state.json}.
 *
 * <p>Native memory stays flat: each forward/backward runs on a sub-manager that is closed right
 * after backward, and gradients are read through handles owned by the update's own sub-manager.
 */
public final class Trainer {

    private static final Logger LOG = Logger.getLogger(Trainer.class);

    private final Gpt2ForSequenceClassification model;
    private final TrainingArguments args;
    private final LabeledSequences train;
    private final LabeledSequences eval;
    private final CheckpointWriter checkpoints;
    private Listener listener = state -> {};

    /** Told after every optimizer update, on the training thread (progress reporting, tests). */
    @FunctionalInterface
    public interface Listener {
        void afterUpdate(TrainerState state);
    }

    /**
     * @param finalEvaluation the evaluation of the final model (the best checkpoint's with
     *     load_best_model_at_end, else the last epoch's), or null without evaluation
     */
    public record Result(TrainerState state, double trainLoss, Duration runtime, double samplesPerSecond,
                         double tokensPerSecond, Evaluator.Evaluation finalEvaluation, Location output) {

        /** The final model's metrics, or null without evaluation. */
        public ClassificationMetrics finalMetrics() {
            return finalEvaluation == null ? null : finalEvaluation.metrics();
        }
    }

    /**
     * @param eval rows to evaluate on every epoch, or null
     * @param checkpoints where checkpoints and the final model go, or null to keep the model in memory only
     */
    public Trainer(Gpt2ForSequenceClassification model, TrainingArguments args, LabeledSequences train,
                   LabeledSequences eval, CheckpointWriter checkpoints) {
        args.validate();
        if (train.size() == 0) {
            throw new TrainingException("the training split is empty");
        }
        if (model.config.pad_token_id == null) {
            throw new TrainingException("the model's config has no pad_token_id; batches of different lengths need one");
        }
        if (eval != null) {
            Set<String> logged = ClassificationMetrics.compute(new int[0], new int[0], 0, model.config.labels()).asLogEntry().keySet();
            if (!logged.contains(args.bestModelMetric())) {
                throw new TrainingException("metric_for_best_model '" + args.metric_for_best_model + "' is not a metric the"
                        + " evaluation logs; choose one of " + logged + " (with or without the eval_ prefix)");
            }
        }
        this.model = model;
        this.args = args;
        this.train = train;
        this.eval = eval;
        this.checkpoints = checkpoints;
    }

    public Trainer withListener(Listener listener) {
        this.listener = listener;
        return this;
    }

    public Result train() throws IOException {
        Engine.getInstance().setRandomSeed((int) args.seed); // dropout masks
        Map<String, NDArray> params = model.namedParameters();
        params.values().forEach(p -> p.setRequiresGradient(true));

        int batchesPerEpoch = (train.size() + args.per_device_train_batch_size - 1) / args.per_device_train_batch_size;
        int updatesPerEpoch = Math.max(1, (batchesPerEpoch + args.gradient_accumulation_steps - 1) / args.gradient_accumulation_steps);
        int totalUpdates = args.max_steps > 0 ? args.max_steps : (int) Math.ceil(args.num_train_epochs * updatesPerEpoch);
        int epochs = (totalUpdates + updatesPerEpoch - 1) / updatesPerEpoch;
        LinearSchedule schedule = LinearSchedule.of(args, totalUpdates);

        TrainerState state = new TrainerState();
        state.max_steps = totalUpdates;
        state.num_train_epochs = epochs;
        state.logging_steps = args.logging_steps;
        state.train_batch_size = args.per_device_train_batch_size;

        LOG.infof("training %,d parameters on %,d rows (%s): %d epochs x %d updates = %d updates, batch %d x %d accumulation, "
                        + "peak lr %s, warmup %d updates, weight decay %s",
                model.parameterCount(), train.size(), eval == null ? "no evaluation" : "evaluating on " + eval.size() + " rows",
                epochs, updatesPerEpoch, totalUpdates, args.per_device_train_batch_size, args.gradient_accumulation_steps,
                args.learning_rate, schedule.warmupSteps(), args.weight_decay);

        Progress progress = new Progress(totalUpdates);
        Evaluator.Evaluation lastEvaluation = null;
        Evaluator.Evaluation bestEvaluation = null;
        double lossSum = 0;
        int padId = model.config.pad_token_id;
        try (AdamW optimizer = new AdamW(params, model.manager(), args)) {
            for (int epoch = 0; epoch < epochs && state.global_step < totalUpdates; epoch++) {
                List<int[]> batches = BatchPlan.trainingEpoch(train, args.per_device_train_batch_size, args.seed, epoch, args.group_by_length);
                for (int start = 0; start < batches.size() && state.global_step < totalUpdates; start += args.gradient_accumulation_steps) {
                    List<int[]> micro = batches.subList(start, Math.min(batches.size(), start + args.gradient_accumulation_steps));
                    double updateLoss = 0;
                    for (int[] rows : micro) {
                        updateLoss += forwardBackward(rows, micro.size(), padId);
                        progress.samples += rows.length;
                        progress.tokens += Arrays.stream(rows).mapToLong(train::length).sum();
                    }
                    double lr = schedule.learningRate(state.global_step);
                    if (!Double.isFinite(updateLoss)) { // before the update: the weights stay those of the last good step
                        throw new TrainingException("loss became " + updateLoss + " at update " + (state.global_step + 1)
                                + " (lr " + lr + "); lower learning_rate or raise warmup_steps");
                    }
                    double gradNorm;
                    try (NDManager step = model.manager().newSubManager()) {
                        gradNorm = optimizer.gradientNorm(step);
                        double clip = args.max_grad_norm > 0 ? Math.min(1.0, args.max_grad_norm / (gradNorm + 1e-6)) : 1.0;
                        optimizer.step(lr, clip, step);
                    }
                    state.global_step++;
                    state.epoch = epoch + (double) Math.min(batches.size(), start + micro.size()) / batches.size();
                    lossSum += updateLoss;
                    progress.window(updateLoss, gradNorm);
                    if (state.global_step % args.logging_steps == 0 || state.global_step == totalUpdates) {
                        state.log_history.add(progress.logEntry(state, lr));
                    }
                    listener.afterUpdate(state);
                }
                String bestBefore = state.best_model_checkpoint;
                lastEvaluation = endOfEpoch(state, epoch);
                if (state.best_model_checkpoint != null && !state.best_model_checkpoint.equals(bestBefore)) {
                    bestEvaluation = lastEvaluation;
                }
            }
        }
        params.values().forEach(p -> p.setRequiresGradient(false));

        Duration runtime = progress.elapsed();
        double seconds = Math.max(1e-9, runtime.toNanos() / 1e9);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("train_runtime", round(seconds));
        summary.put("train_samples_per_second", round(progress.samples / seconds));
        summary.put("train_steps_per_second", round(state.global_step / seconds));
        summary.put("train_tokens_per_second", round(progress.tokens / seconds));
        summary.put("train_loss", lossSum / state.global_step);
        summary.put("epoch", state.epoch);
        summary.put("step", state.global_step);
        state.log_history.add(summary);
        Evaluator.Evaluation finalEvaluation = lastEvaluation;
        Location finalWeights = null;
        if (checkpoints != null && args.load_best_model_at_end && state.best_model_checkpoint != null) {
            finalWeights = Location.parse(state.best_model_checkpoint);
            finalEvaluation = bestEvaluation;
            LOG.infof("load_best_model_at_end: the final model is %s (%s %.4f)", finalWeights,
                    args.metric_for_best_model, state.best_metric);
        }
        if (checkpoints != null) {
            checkpoints.writeFinal(model, state, args, finalWeights);
        }
        LOG.infof("training done: %d updates in %s, train loss %.4f, %.0f tokens/s, %.1f samples/s%s",
                state.global_step, Progress.format(runtime), lossSum / state.global_step,
                progress.tokens / seconds, progress.samples / seconds,
                checkpoints == null ? "" : "; model written to " + checkpoints.output());
        return new Result(state, lossSum / state.global_step, runtime, progress.samples / seconds,
                progress.tokens / seconds, finalEvaluation, checkpoints == null ? null : checkpoints.output());
    }

    /** One micro-batch: forward with dropout, mean cross-entropy / accumulation steps, backward. */
    private double forwardBackward(int[] rows, int accumulation, int padId) {
        try (NDManager step = model.manager().newSubManager();
             GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            Gpt2ForSequenceClassification.Output out = model.forward(BatchPlan.batch(train, rows, padId), step, true);
            NDArray loss = Gpt2ForSequenceClassification.crossEntropy(out.logits(), BatchPlan.labels(train, rows));
            if (accumulation > 1) {
                loss = loss.div(step.create((float) accumulation));
            }
            collector.backward(loss);
            return loss.getFloat();
        }
    }

    private Evaluator.Evaluation endOfEpoch(TrainerState state, int epoch) throws IOException {
        Evaluator.Evaluation evaluation = null;
        if (eval != null && args.eval_strategy.equals("epoch")) {
            long start = System.nanoTime();
            evaluation = Evaluator.evaluate(model, eval, args.per_device_eval_batch_size);
            ClassificationMetrics metrics = evaluation.metrics();
            double seconds = (System.nanoTime() - start) / 1e9;
            Map<String, Object> entry = new LinkedHashMap<>(metrics.asLogEntry());
            entry.put("eval_runtime", round(seconds));
            entry.put("eval_samples_per_second", round(eval.size() / seconds));
            entry.put("epoch", state.epoch);
            entry.put("step", state.global_step);
            state.log_history.add(entry);
            LOG.infof("epoch %d evaluation (%d rows, %.1fs):%n%s", epoch + 1, eval.size(), seconds, metrics.table());
        }
        if (checkpoints != null && args.save_strategy.equals("epoch")) {
            String name = "checkpoint-" + state.global_step;
            if (evaluation != null) {
                double value = evaluation.metrics().metric(args.bestModelMetric());
                boolean better = state.best_metric == null
                        || (args.greaterIsBetter() ? value > state.best_metric : value < state.best_metric);
                if (better) {
                    state.best_metric = value;
                    state.best_model_checkpoint = checkpoints.output().resolve(name).toString();
                }
            }
            Location written = checkpoints.writeCheckpoint(model, state, args);
            LOG.infof("saved %s", written);
        }
        return evaluation;
    }

    private static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    /** Throughput, ETA and the running loss average between two log lines. */
    private final class Progress {
        final long startNanos = System.nanoTime();
        final int totalUpdates;
        long samples;
        long tokens;
        double windowLoss;
        double windowGradNorm;
        int windowUpdates;

        Progress(int totalUpdates) {
            this.totalUpdates = totalUpdates;
        }

        void window(double loss, double gradNorm) {
            windowLoss += loss;
            windowGradNorm += gradNorm;
            windowUpdates++;
        }

        Map<String, Object> logEntry(TrainerState state, double lr) {
            double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
            double loss = windowLoss / windowUpdates;
            double gradNorm = windowGradNorm / windowUpdates;
            Duration eta = Duration.ofMillis((long) (seconds * 1000 * (totalUpdates - state.global_step) / state.global_step));
            LOG.infof("step %d/%d  epoch %.2f  loss %.4f  lr %.3e  grad_norm %.3f  %,.0f tokens/s  %.1f samples/s  elapsed %s  ETA %s",
                    state.global_step, totalUpdates, state.epoch, loss, lr, gradNorm, tokens / seconds, samples / seconds,
                    format(elapsed()), format(eta));
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("loss", loss);
            entry.put("grad_norm", gradNorm);
            entry.put("learning_rate", lr);
            entry.put("epoch", state.epoch);
            entry.put("step", state.global_step);
            windowLoss = 0;
            windowGradNorm = 0;
            windowUpdates = 0;
            return entry;
        }

        Duration elapsed() {
            return Duration.ofNanos(System.nanoTime() - startNanos);
        }

        static String format(Duration d) {
            long s = d.toSeconds();
            return s >= 3600 ? String.format("%dh%02dm", s / 3600, s % 3600 / 60) : String.format("%dm%02ds", s / 60, s % 60);
        }
    }
}
