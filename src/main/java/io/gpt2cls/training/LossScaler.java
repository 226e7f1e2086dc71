package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * Dynamic loss scaling for float16 training, as {@code torch.amp.GradScaler} decides it. Small
 * gradients underflow in float16, so the loss is multiplied by {@link #scale} before backward and
 * the gradients divided by it before the update. When a scaled gradient overflowed (inf or NaN) the
 * update is skipped (weights and optimizer state untouched) and the scale halved; after
 * {@code growth_interval} good updates in a row it is doubled.
 *
 * <p>Its state is {@code scaler.json} in a checkpoint (GradScaler's {@code state_dict} keys).
 */
public final class LossScaler {
    static final String FILE = "scaler.json";

    @JsonProperty("scale") double scale = 65536.0;
    @JsonProperty("growth_factor") double growthFactor = 2.0;
    @JsonProperty("backoff_factor") double backoffFactor = 0.5;
    @JsonProperty("growth_interval") int growthInterval = 2000;
    @JsonProperty("_growth_tracker") int growthTracker;

    LossScaler() {}

    LossScaler(double initialScale, int growthInterval) {
        this.scale = initialScale;
        this.growthInterval = growthInterval;
    }

    public double scale() {
        return scale;
    }

    /**
     * Decides after backward, from the norm of the scaled gradients: returns whether the update
     * goes ahead (the gradients were finite), and moves the scale for the next update.
     */
    public boolean update(double scaledGradientNorm) {
        if (!Double.isFinite(scaledGradientNorm)) {
            scale *= backoffFactor;
            growthTracker = 0;
            return false;
        }
        if (++growthTracker == growthInterval) {
            scale *= growthFactor;
            growthTracker = 0;
        }
        return true;
    }

    void write(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), TrainerState.JSON.writeValueAsString(this));
    }

    static LossScaler read(Path dir) throws IOException {
        return TrainerState.JSON.readValue(dir.resolve(FILE).toFile(), LossScaler.class);
    }
}
