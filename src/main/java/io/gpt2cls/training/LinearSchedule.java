package io.gpt2cls.training;

/**
 * Hugging Face {@code get_linear_schedule_with_warmup}: the learning rate of optimizer update
 * {@code step} (0-based) rises linearly from 0 over the warmup, then falls linearly to 0 at the
 * last update. With warmup the very first update therefore uses lr 0, exactly as in PyTorch.
 */
public record LinearSchedule(double peak, int warmupSteps, int totalSteps) {

    public static LinearSchedule of(TrainingArguments args, int totalSteps) {
        int warmup = args.warmup_steps > 0 ? args.warmup_steps : (int) Math.ceil(args.warmup_ratio * totalSteps);
        return new LinearSchedule(args.learning_rate, warmup, totalSteps);
    }

    public double learningRate(int step) {
        if (step < warmupSteps) {
            return peak * step / Math.max(1, warmupSteps);
        }
        return peak * Math.max(0.0, (double) (totalSteps - step) / Math.max(1, totalSteps - warmupSteps));
    }
}
