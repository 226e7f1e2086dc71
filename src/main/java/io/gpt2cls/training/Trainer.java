package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.jboss.logging.Logger;

import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.training.GradientCollector;

import io.gpt2cls.dataset.LabeledSequences;
import io.gpt2cls.model.Gpt2ForSequenceClassification;
import io.gpt2cls.model.ModelCheckpoint;
import io.gpt2cls.storage.ArtifactStore;
import io.gpt2cls.storage.Location;

/**
 * Fine-tunes a GPT-2 classifier with Hugging Face {@code Trainer} semantics: AdamW with decoupled
 * weight decay, linear schedule with warmup, global-norm clipping, gradient accumulation, dynamic
 * padding, evaluation and checkpoints by epoch or every N steps, {@code trainer_state.json},
 * {@code load_best_model_at_end}, optional float16 mixed precision with dynamic loss scaling.
 *
 * <p>The Trainer trains and announces what happens ({@link TrainerCallback}); publishing
 * checkpoints, early stopping, machine-readable logs and the report are callbacks.
 *
 * <p><b>Resuming.</b> {@link #train(Path)} continues from a checkpoint ({@link Checkpoint}) exactly
 * where an uninterrupted run would be: weights, AdamW moments and step counts, the schedule's
 * position, the loss scale, and the position in the epoch (the epoch's batches are a function of
 * seed and epoch; dropout is reseeded per micro-batch from (seed, global_step, micro-batch)). Given
 * the same thread count, the resumed run computes bit for bit what the uninterrupted one does.
 *
 * <p><b>Stopping.</b> When {@link #stopWhen} reports a request (SIGTERM, a spot interruption
 * notice, a Batch job stopped), the update under way finishes, no evaluation starts (one under way
 * gives up between batches), a checkpoint is written if the last one is older, and {@link #train}
 * returns {@link Status#STOPPED}: one update plus a save. An evaluation the stop skipped is recorded
 * in the checkpoint as due ({@link TrainerState#evaluation_due}) and runs first when it is resumed,
 * so the resumed run still equals an uninterrupted one.
 *
 * <p>Native memory stays flat: each forward/backward runs on a sub-manager that is closed right
 * after backward, and gradients are read through handles owned by the update's own sub-manager.
 * A Trainer trains once.
 */
public final class Trainer {

    private static final Logger LOG = Logger.getLogger(Trainer.class);

    private final Gpt2ForSequenceClassification model;
    private final TrainingArguments args;
    private final LabeledSequences train;
    private final LabeledSequences eval;
    private final List<TrainerCallback> callbacks = new ArrayList<>();
    private ArtifactStore store;
    private Location output;
    private BooleanSupplier stopRequested = () -> false;
    private String datasetSha256;
    private String modelSource;
    private String baseModelRevision;
    private String tokenizerFingerprint;
    private LossScaler lossScaler;

    // the run's state, set by train()
    private final TrainerControl control = new TrainerControl();
    private final Timings timings = new Timings();
    private TrainerState state;
    private AdamW optimizer;
    private LinearSchedule schedule;
    private int scheduleStep;
    private Progress progress;
    private int lastSavedStep = -1;
    private Location lastCheckpoint;
    private Evaluator.Evaluation lastEvaluation;
    private int lastEvaluationStep = -1;
    /** The evaluation of best_global_step when this process made it (not when the best predates a resume). */
    private Evaluator.Evaluation bestEvaluation;

    public enum Status {
        /** Every update done (or stopped early by a callback), the final model written. */
        COMPLETED,
        /** Stopped on request after a checkpoint; the same request resumes from it. */
        STOPPED,
        /** Nothing to do: the output already holds this run's final model (see {@link FinetuneJob}). */
        ALREADY_COMPLETED
    }

    /** Seconds this process spent in each part of training. */
    public static final class Timings {
        double forward;
        double backward;
        double optimizer;
        double evaluation;
        double checkpoints;

        public Map<String, Double> asMap() {
            Map<String, Double> map = new LinkedHashMap<>();
            map.put("forward_seconds", round(forward));
            map.put("backward_seconds", round(backward));
            map.put("optimizer_seconds", round(optimizer));
            map.put("evaluation_seconds", round(evaluation));
            map.put("checkpoint_seconds", round(checkpoints));
            return map;
        }
    }

    /**
     * @param runtime this process's training time (a resumed run counts only its own part)
     * @param finalEvaluation the final model's evaluation with each row's probabilities; null without
     *     evaluation, or when the result was read back from an earlier run ({@link Status#ALREADY_COMPLETED})
     * @param finalMetrics the final model's metrics, or null without evaluation
     * @param finalModelStep the step whose weights the final model has (the best checkpoint's with
     *     load_best_model_at_end); null when stopped
     * @param checkpoint the newest checkpoint this run wrote, or null
     */
    public record Result(Status status, TrainerState state, double trainLoss, Duration runtime, double samplesPerSecond,
                         double tokensPerSecond, Timings timings, Evaluator.Evaluation finalEvaluation,
                         ClassificationMetrics finalMetrics, Integer finalModelStep, Location output, Location checkpoint) {}

    /**
     * @param eval rows to evaluate on (eval_strategy), or null
     */
    public Trainer(Gpt2ForSequenceClassification model, TrainingArguments args, LabeledSequences train, LabeledSequences eval) {
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
        } else if (args.early_stopping_patience != null) {
            throw new TrainingException("early_stopping_patience needs evaluations, and the dataset has no test split");
        }
        this.model = model;
        this.args = args;
        this.train = train;
        this.eval = eval;
        if (args.fp16) {
            lossScaler = new LossScaler();
        }
    }

    /**
     * Writes checkpoints and the final model for {@code output} (announced through {@link TrainerCallback#onSave};
     * a {@link CheckpointPublisher} puts them there) and reads the best one back from {@code store}
     * for load_best_model_at_end. Without it nothing is saved and the model stays in memory only.
     */
    public Trainer savingTo(ArtifactStore store, Location output) {
        this.store = store;
        this.output = output;
        return this;
    }

    /** Seconds spent so far in each part of training (benchmarks read them between updates). */
    Timings timings() {
        return timings;
    }

    public Trainer addCallback(TrainerCallback callback) {
        callbacks.add(callback);
        return this;
    }

    /** Checked before and after every update: when it turns true, training saves and stops. */
    public Trainer stopWhen(BooleanSupplier stopRequested) {
        this.stopRequested = stopRequested;
        return this;
    }

    /** What this run is, recorded in trainer_state.json so a resume can tell it is the same run. */
    public Trainer identifiedBy(String datasetSha256, String modelSource) {
        this.datasetSha256 = datasetSha256;
        this.modelSource = modelSource;
        return this;
    }

    /** Where the run started from, recorded in trainer_state.json for a person: the Hub revision (or null) and the tokenizer. */
    public Trainer startedFrom(String baseModelRevision, String tokenizerFingerprint) {
        this.baseModelRevision = baseModelRevision;
        this.tokenizerFingerprint = tokenizerFingerprint;
        return this;
    }

    /** Replaces the default loss scaler (fp16); tests start from a scale that overflows. */
    Trainer withLossScaler(LossScaler scaler) {
        this.lossScaler = scaler;
        return this;
    }

    public Result train() throws IOException {
        return train(null);
    }

    /** Trains from the model's current weights, or continues the run saved in the checkpoint {@code resumeFrom}. */
    public Result train(Path resumeFrom) throws IOException {
        Map<String, NDArray> trainable = trainableParameters();
        int batchesPerEpoch = (train.size() + args.per_device_train_batch_size - 1) / args.per_device_train_batch_size;
        int updatesPerEpoch = Math.max(1, (batchesPerEpoch + args.gradient_accumulation_steps - 1) / args.gradient_accumulation_steps);
        int totalUpdates = args.max_steps > 0 ? args.max_steps : (int) Math.ceil(args.num_train_epochs * updatesPerEpoch);
        int epochs = (totalUpdates + updatesPerEpoch - 1) / updatesPerEpoch;
        schedule = LinearSchedule.of(args, totalUpdates);
        int startEpoch = 0;
        int startBatch = 0;
        try (AdamW adamW = new AdamW(trainable, model.manager(), args)) {
            optimizer = adamW;
            if (resumeFrom != null) {
                Checkpoint.Resumed resumed = Checkpoint.read(resumeFrom, args);
                optimizer.load(resumed.optimizerFile());
                state = resumed.state();
                scheduleStep = resumed.scheduleStep();
                lossScaler = resumed.scaler();
                lastSavedStep = state.global_step;
                // where the data stands, as the checkpoint recorded it (one written before it was recorded: from global_step)
                startEpoch = state.epoch_index != null ? state.epoch_index : state.global_step / updatesPerEpoch;
                startBatch = args.ignore_data_skip ? 0 : state.epoch_index != null ? state.epoch_batches_consumed
                        : (state.global_step - startEpoch * updatesPerEpoch) * args.gradient_accumulation_steps;
            } else {
                state = new TrainerState();
                state.dataset_sha256 = datasetSha256;
                state.model_source = modelSource;
                state.base_model_revision = baseModelRevision;
                state.tokenizer_fingerprint = tokenizerFingerprint;
            }
            state.max_steps = totalUpdates;
            state.num_train_epochs = epochs;
            state.logging_steps = args.logging_steps;
            state.eval_steps = args.evalSteps();
            state.save_steps = args.save_steps;
            state.train_batch_size = args.per_device_train_batch_size;
            trainable.values().forEach(p -> p.setRequiresGradient(true));
            LOG.infof("training %,d of %,d parameters%s on %,d rows (%s): %d epochs x %d updates = %d updates, batch %d x %d"
                            + " accumulation, peak lr %s, warmup %d updates, weight decay %s, %s%s",
                    trainable.values().stream().mapToLong(p -> p.getShape().size()).sum(), model.parameterCount(),
                    args.freeze_embeddings ? " (embeddings frozen)" : "", train.size(),
                    eval == null ? "no evaluation" : "evaluating on " + eval.size() + " rows", epochs, updatesPerEpoch,
                    totalUpdates, args.per_device_train_batch_size, args.gradient_accumulation_steps, args.learning_rate,
                    schedule.warmupSteps(), args.weight_decay, args.fp16 ? "fp16 mixed precision" : "fp32",
                    resumeFrom == null ? "" : "; resuming at update " + state.global_step + " (epoch " + startEpoch + ", batch "
                            + startBatch + (args.ignore_data_skip ? ", ignore_data_skip" : "") + ")");
            progress = new Progress(totalUpdates, state.global_step);
            callbacks.forEach(c -> c.onTrainBegin(state, control));
            Status status = catchUpAfterStop();
            if (status == null) {
                status = loop(epochs, totalUpdates, startEpoch, startBatch, trainable);
            }
            trainable.values().forEach(p -> p.setRequiresGradient(false));
            return status == Status.STOPPED ? stopped() : finish();
        } finally {
            trainable.values().forEach(p -> p.setRequiresGradient(false));
        }
    }

    /** The parameters AdamW updates: all but the embeddings when they are frozen. */
    private Map<String, NDArray> trainableParameters() {
        Map<String, NDArray> trainable = new LinkedHashMap<>(model.namedParameters());
        if (args.freeze_embeddings) {
            trainable.keySet().removeIf(name -> name.endsWith(".wte.weight") || name.endsWith(".wpe.weight"));
        }
        return trainable;
    }

    /** Trains from micro-batch {@code startBatch} of epoch {@code startEpoch} on, evaluating and saving as the strategies say. */
    private Status loop(int epochs, int totalUpdates, int startEpoch, int startBatch, Map<String, NDArray> trainable) throws IOException {
        int padId = model.config.pad_token_id;
        for (int epoch = startEpoch; epoch < epochs && state.global_step < totalUpdates; epoch++) {
            List<int[]> batches = BatchPlan.trainingEpoch(train, args.per_device_train_batch_size, args.seed, epoch, args.group_by_length);
            int first = epoch == startEpoch ? startBatch : 0;
            for (int start = first; start < batches.size() && state.global_step < totalUpdates; start += args.gradient_accumulation_steps) {
                if (stopRequested.getAsBoolean()) {
                    return Status.STOPPED;
                }
                List<int[]> micro = batches.subList(start, Math.min(batches.size(), start + args.gradient_accumulation_steps));
                update(micro, padId, trainable);
                int consumed = start + micro.size();
                state.epoch = epoch + (double) consumed / batches.size();
                // recorded in checkpoints: the next micro-batch to train on (at an epoch's end, the next epoch's first)
                state.epoch_index = consumed >= batches.size() ? epoch + 1 : epoch;
                state.epoch_batches_consumed = consumed >= batches.size() ? 0 : consumed;

                boolean epochEnds = consumed >= batches.size() || state.global_step == totalUpdates;
                control.resetStep();
                control.shouldLog = state.global_step % args.logging_steps == 0 || state.global_step == totalUpdates;
                control.shouldEvaluate = eval != null && (args.eval_strategy.equals("steps") && state.global_step % args.evalSteps() == 0
                        || args.eval_strategy.equals("epoch") && epochEnds);
                control.shouldSave = args.save_strategy.equals("steps") && (state.global_step % args.save_steps == 0
                        || state.global_step == totalUpdates) || args.save_strategy.equals("epoch") && epochEnds;
                callbacks.forEach(c -> c.onStepEnd(state, control));
                if (control.shouldLog) {
                    log(progress.logEntry(state, schedule.learningRate(scheduleStep)));
                }
                if (control.shouldEvaluate && evaluate(stopRequested) == null) {
                    // no evaluation starts, or goes on, once a stop is requested: saving is the only work left
                    state.evaluation_due = true;
                    state.save_due = control.shouldSave;
                    return Status.STOPPED;
                }
                if (control.shouldSave) {
                    save();
                }
                if (stopRequested.getAsBoolean()) {
                    return Status.STOPPED;
                }
                if (control.shouldTrainingStop) {
                    return Status.COMPLETED;
                }
            }
        }
        return Status.COMPLETED;
    }

    /**
     * One optimizer update over the micro-batches of {@code micro}. In mixed precision the forward
     * and backward passes run on a float16 working copy of the model made for this update, and AdamW
     * applies its (unscaled) gradients to the float32 weights.
     */
    private void update(List<int[]> micro, int padId, Map<String, NDArray> trainable) {
        try (NDManager scope = model.manager().newSubManager();
             Gpt2ForSequenceClassification working = lossScaler == null ? null : model.castTo(DataType.FLOAT16, scope)) {
            Gpt2ForSequenceClassification computing = working == null ? model : working;
            Map<String, NDArray> gradients = trainable;
            if (working != null) {
                gradients = new LinkedHashMap<>();
                for (String name : trainable.keySet()) {
                    NDArray copy = working.namedParameters().get(name);
                    copy.setRequiresGradient(true);
                    gradients.put(name, copy);
                }
            }
            double updateLoss = 0;
            for (int i = 0; i < micro.size(); i++) {
                // dropout masks follow from (seed, update, micro-batch), so a resumed run draws the same ones
                Engine.getInstance().setRandomSeed(dropoutSeed(args.seed, state.global_step, i));
                updateLoss += forwardBackward(computing, micro.get(i), micro.size(), padId);
                progress.samples += micro.get(i).length;
                progress.tokens += Arrays.stream(micro.get(i)).mapToLong(train::length).sum();
            }
            applyUpdate(updateLoss, gradients);
        }
    }

    /** Clips and applies the accumulated gradients of {@code gradients} (or, on a float16 overflow, skips the update). */
    private void applyUpdate(double updateLoss, Map<String, NDArray> gradients) {
        double lr = schedule.learningRate(scheduleStep);
        if (!Double.isFinite(updateLoss)) { // before the update: the weights stay those of the last good step
            throw new TrainingException("loss became " + updateLoss + " at update " + (state.global_step + 1)
                    + " (lr " + lr + "); lower learning_rate or raise warmup_steps");
        }
        long start = System.nanoTime();
        double gradNorm;
        try (NDManager step = model.manager().newSubManager()) {
            double scale = lossScaler == null ? 1 : lossScaler.scale();
            double scaledNorm = optimizer.gradientNorm(gradients, step);
            gradNorm = scaledNorm / scale;
            if (lossScaler != null && !lossScaler.update(scaledNorm)) {
                // a float16 gradient overflowed: skip the update, as GradScaler does; the schedule does not move either
                optimizer.zeroGradients(gradients);
                LOG.infof("update %d skipped: float16 gradients overflowed at loss scale %.0f; the scale is now %.0f",
                        state.global_step + 1, scale, lossScaler.scale());
            } else {
                double clip = args.max_grad_norm > 0 ? Math.min(1.0, args.max_grad_norm / (gradNorm + 1e-6)) : 1.0;
                optimizer.step(lr, clip / scale, gradients, step);
                scheduleStep++;
            }
        }
        timings.optimizer += (System.nanoTime() - start) / 1e9;
        state.global_step++;
        state.total_train_loss += updateLoss;
        state.logging_window_loss += updateLoss;
        state.logging_window_grad_norm += Double.isFinite(gradNorm) ? gradNorm : 0; // a skipped update counts 0
        state.logging_window_updates++;
    }

    /** One micro-batch: forward with dropout, mean cross-entropy / accumulation steps, backward. */
    private double forwardBackward(Gpt2ForSequenceClassification computing, int[] rows, int accumulation, int padId) {
        try (NDManager step = model.manager().newSubManager();
             GradientCollector collector = Engine.getInstance().newGradientCollector()) {
            long start = System.nanoTime();
            Gpt2ForSequenceClassification.Output out = computing.forward(BatchPlan.batch(train, rows, padId), step, true);
            NDArray loss = Gpt2ForSequenceClassification.crossEntropy(out.logits(), BatchPlan.labels(train, rows));
            if (accumulation > 1) {
                loss = loss.div(step.create((float) accumulation));
            }
            NDArray scaled = lossScaler == null ? loss : loss.mul(step.create((float) lossScaler.scale()));
            long forwardDone = System.nanoTime();
            collector.backward(scaled);
            double value = loss.getFloat();
            timings.forward += (forwardDone - start) / 1e9;
            timings.backward += (System.nanoTime() - forwardDone) / 1e9;
            return value;
        }
    }

    /**
     * The seed of libtorch's generator before micro-batch {@code micro} of update {@code globalStep}
     * (0-based): SplitMix64's finaliser over the three numbers, so neighbouring updates get unrelated seeds.
     */
    static int dropoutSeed(long seed, int globalStep, int micro) {
        long z = seed * 0x9E3779B97F4A7C15L + (globalStep + 1L) * 0xBF58476D1CE4E5B9L + (micro + 1L) * 0x94D049BB133111EBL;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return (int) (z ^ (z >>> 31));
    }

    private void log(Map<String, Object> entry) {
        state.log_history.add(entry);
        callbacks.forEach(c -> c.onLog(state, entry));
    }

    /**
     * A checkpoint written at a stop may record the evaluation (and the save after it) that was due
     * after its update and that the stop skipped: they run first, as the uninterrupted run ran them.
     *
     * @return null to go on training, else how training ends here
     */
    private Status catchUpAfterStop() throws IOException {
        if (!state.evaluation_due || eval == null) {
            return null;
        }
        control.resetStep();
        if (evaluate(stopRequested) == null) {
            return Status.STOPPED; // stopped again: the checkpoint still records it as due
        }
        state.evaluation_due = false;
        if (state.save_due) {
            state.save_due = false;
            lastSavedStep = -1; // the stop's checkpoint again, now with the evaluation in its state, as the uninterrupted run saved it
            save();
        }
        if (stopRequested.getAsBoolean()) {
            return Status.STOPPED;
        }
        return control.shouldTrainingStop ? Status.COMPLETED : null;
    }

    /**
     * Evaluates the model, logs it, lets callbacks see it, then records whether it is the best so far;
     * gives up (null, nothing recorded) when {@code stop} turns true first.
     */
    private Evaluator.Evaluation evaluate(BooleanSupplier stop) {
        long start = System.nanoTime();
        Evaluator.Evaluation evaluation = Evaluator.evaluate(model, eval, args.per_device_eval_batch_size, stop).orElse(null);
        double seconds = (System.nanoTime() - start) / 1e9;
        timings.evaluation += seconds;
        if (evaluation == null) {
            LOG.infof("evaluation at step %d skipped: a stop was requested; a resume runs it first", state.global_step);
            return null;
        }
        ClassificationMetrics metrics = evaluation.metrics();
        Map<String, Object> entry = new LinkedHashMap<>(metrics.asLogEntry());
        entry.put("eval_runtime", round(seconds));
        entry.put("eval_samples_per_second", round(eval.size() / seconds));
        entry.put("epoch", state.epoch);
        entry.put("step", state.global_step);
        log(entry);
        LOG.infof("evaluation at step %d, epoch %.2f (%d rows, %.1fs):%n%s", state.global_step, state.epoch, eval.size(), seconds,
                metrics.table());
        callbacks.forEach(c -> c.onEvaluate(state, control, metrics));
        double value = metrics.metric(args.bestModelMetric());
        if (state.best_metric == null || (args.greaterIsBetter() ? value > state.best_metric : value < state.best_metric)) {
            state.best_metric = value;
            state.best_global_step = state.global_step;
            bestEvaluation = evaluation;
        }
        lastEvaluation = evaluation;
        lastEvaluationStep = state.global_step;
        return evaluation;
    }

    /** Writes checkpoint-&lt;global_step&gt; and announces it; the best checkpoint is recorded where it will be published. */
    private void save() throws IOException {
        if (output == null || lastSavedStep == state.global_step) {
            return;
        }
        long start = System.nanoTime();
        String name = CheckpointPublisher.PREFIX + state.global_step;
        Location location = output.resolve(name);
        if (state.best_global_step != null && state.best_global_step == state.global_step) {
            state.best_model_checkpoint = location.toString();
        }
        Path dir = Files.createTempDirectory("gpt2cls-" + name + "-");
        try {
            Checkpoint.write(dir, model, optimizer, scheduleStep, lossScaler, state, args);
            announceSave(new TrainerCallback.Saved(name, dir, location, false, evaluatedNow() ? lastEvaluation.metrics() : null));
        } finally {
            deleteDirectory(dir);
        }
        lastSavedStep = state.global_step;
        lastCheckpoint = location;
        double seconds = (System.nanoTime() - start) / 1e9;
        timings.checkpoints += seconds;
        LOG.infof("saved %s in %.1f s", location, seconds);
    }

    private void announceSave(TrainerCallback.Saved saved) throws IOException {
        for (TrainerCallback callback : callbacks) {
            callback.onSave(state, saved);
        }
    }

    /** Whether the current weights (global_step) have been evaluated. */
    private boolean evaluatedNow() {
        return lastEvaluationStep == state.global_step;
    }

    private Result stopped() throws IOException {
        long start = System.nanoTime();
        save();
        LOG.infof("stop requested: stopped after update %d of %d; %s (%.1f s); the same request resumes from there",
                state.global_step, state.max_steps, lastSavedStep == state.global_step && lastCheckpoint != null
                        ? "checkpoint " + lastCheckpoint + " is published" : "no update since the last checkpoint",
                (System.nanoTime() - start) / 1e9);
        return result(Status.STOPPED, null, null);
    }

    /** The end of training: the summary entry, the best weights if asked for, the final model's evaluation and files. */
    private Result finish() throws IOException {
        Duration runtime = progress.elapsed();
        double seconds = Math.max(1e-9, runtime.toNanos() / 1e9);
        Map<String, Object> summary = new LinkedHashMap<>();
        summary.put("train_runtime", round(seconds));
        summary.put("train_samples_per_second", round(progress.samples / seconds));
        summary.put("train_steps_per_second", round(progress.updates(state) / seconds));
        summary.put("train_tokens_per_second", round(progress.tokens / seconds));
        summary.put("train_loss", state.total_train_loss / state.global_step);
        summary.put("epoch", state.epoch);
        summary.put("step", state.global_step);
        log(summary);

        Path bestDir = null;
        int finalStep = state.global_step;
        Evaluator.Evaluation finalEvaluation;
        if (output != null && args.load_best_model_at_end && state.best_model_checkpoint != null) {
            bestDir = store.fetchSet(Location.parse(state.best_model_checkpoint), ModelCheckpoint.CONFIG_FILE);
            finalStep = state.best_global_step;
            LOG.infof("load_best_model_at_end: the final model is %s (%s %.4f)", state.best_model_checkpoint,
                    args.metric_for_best_model, state.best_metric);
            finalEvaluation = bestEvaluation != null ? bestEvaluation : evaluateCheckpoint(bestDir);
        } else if (eval == null || args.eval_strategy.equals("no")) {
            finalEvaluation = null;
        } else {
            finalEvaluation = evaluatedNow() ? lastEvaluation : evaluate(() -> false); // all updates are done: finish them
        }
        Result result = result(Status.COMPLETED, finalEvaluation, finalStep);
        if (output != null) {
            writeFinal(bestDir, result);
        }
        LOG.infof("training done: %d updates in %s, train loss %.4f, %.0f tokens/s, %.1f samples/s%s", state.global_step,
                Progress.format(runtime), result.trainLoss(), result.tokensPerSecond(), result.samplesPerSecond(),
                output == null ? "" : "; model written to " + output);
        LOG.infof("time spent: %s", timings.asMap());
        return result;
    }

    /** Evaluates the weights of a checkpoint (the best one, saved before this process resumed). */
    private Evaluator.Evaluation evaluateCheckpoint(Path dir) throws IOException {
        long start = System.nanoTime();
        try (Gpt2ForSequenceClassification best = ModelCheckpoint.load(dir, model.manager())) {
            return Evaluator.evaluate(best, eval, args.per_device_eval_batch_size);
        } finally {
            timings.evaluation += (System.nanoTime() - start) / 1e9;
        }
    }

    /** The final model at the output root: this model's files, or with {@code weightsFrom} that checkpoint's weights. */
    private void writeFinal(Path weightsFrom, Result result) throws IOException {
        long start = System.nanoTime();
        Path dir = Files.createTempDirectory("gpt2cls-final-");
        try {
            if (weightsFrom == null) {
                ModelCheckpoint.save(model, dir);
            } else {
                for (String file : List.of(ModelCheckpoint.CONFIG_FILE, ModelCheckpoint.WEIGHTS_FILE)) {
                    Files.copy(weightsFrom.resolve(file), dir.resolve(file));
                }
            }
            state.write(dir);
            Checkpoint.writeArgs(dir, args);
            AllResults.of(result).write(dir);
            announceSave(new TrainerCallback.Saved("", dir, output, true, result.finalMetrics()));
        } finally {
            deleteDirectory(dir);
        }
        timings.checkpoints += (System.nanoTime() - start) / 1e9;
    }

    private Result result(Status status, Evaluator.Evaluation finalEvaluation, Integer finalStep) {
        Duration runtime = progress.elapsed();
        double seconds = Math.max(1e-9, runtime.toNanos() / 1e9);
        return new Result(status, state, state.global_step == 0 ? 0 : state.total_train_loss / state.global_step, runtime,
                progress.samples / seconds, progress.tokens / seconds, timings, finalEvaluation,
                finalEvaluation == null ? null : finalEvaluation.metrics(), finalStep, output, lastCheckpoint);
    }

    /** Removes a directory of files the Trainer wrote (flat: checkpoints have no subdirectories). */
    private static void deleteDirectory(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            for (Path file : files.toList()) {
                Files.delete(file);
            }
        }
        Files.delete(dir);
    }

    static double round(double value) {
        return Math.round(value * 1000) / 1000.0;
    }

    /** Throughput, ETA and the log line of a logging step. */
    private static final class Progress {
        final long startNanos = System.nanoTime();
        final int totalUpdates;
        final int firstUpdate;
        long samples;
        long tokens;

        Progress(int totalUpdates, int firstUpdate) {
            this.totalUpdates = totalUpdates;
            this.firstUpdate = firstUpdate;
        }

        /** Updates made by this process. */
        int updates(TrainerState state) {
            return state.global_step - firstUpdate;
        }

        /** The progress entry of log_history (the average over the updates since the last one), and its log line. */
        Map<String, Object> logEntry(TrainerState state, double lr) {
            double seconds = Math.max(1e-9, (System.nanoTime() - startNanos) / 1e9);
            double loss = state.logging_window_loss / state.logging_window_updates;
            double gradNorm = state.logging_window_grad_norm / state.logging_window_updates;
            Duration eta = Duration.ofMillis((long) (seconds * 1000 * (totalUpdates - state.global_step) / Math.max(1, updates(state))));
            LOG.infof("step %d/%d  epoch %.2f  loss %.4f  lr %.3e  grad_norm %.3f  %,.0f tokens/s  %.1f samples/s  elapsed %s  ETA %s",
                    state.global_step, totalUpdates, state.epoch, loss, lr, gradNorm, tokens / seconds, samples / seconds,
                    format(elapsed()), format(eta));
            Map<String, Object> entry = new LinkedHashMap<>();
            entry.put("loss", loss);
            entry.put("grad_norm", gradNorm);
            entry.put("learning_rate", lr);
            entry.put("epoch", state.epoch);
            entry.put("step", state.global_step);
            state.logging_window_loss = 0;
            state.logging_window_grad_norm = 0;
            state.logging_window_updates = 0;
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
