package io.gpt2cls.training;

import java.util.LinkedHashMap;
import java.util.Map;

import org.jboss.logging.Logger;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;

import io.gpt2cls.runtime.ResidentMemory;
import io.gpt2cls.storage.Location;

/**
 * One JSON object per log entry (progress, evaluation, summary), on its own line, for machines:
 * CloudWatch Logs Insights discovers the fields of a JSON log event, so
 * {@code filter event = "train" | stats avg(loss) by bin(5m)} works on a Batch job's log stream.
 *
 * <p>The lines go to the logger category {@value #CATEGORY}, which application.properties gives a
 * handler that writes the message alone (no time or level prefix, which would hide the JSON).
 */
public final class JsonLogCallback implements TrainerCallback {

    public static final String CATEGORY = "gpt2cls.metrics";
    private static final Logger LOG = Logger.getLogger(CATEGORY);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Location output;
    private long startNanos;
    private int firstStep;

    public JsonLogCallback(Location output) {
        this.output = output;
    }

    @Override
    public void onTrainBegin(TrainerState state, TrainerControl control) {
        startNanos = System.nanoTime();
        firstStep = state.global_step;
    }

    /**
     * The entry as it is in log_history, plus what an operator watches: the run's output, progress,
     * elapsed time and ETA of this process, and the process's resident memory.
     */
    @Override
    public void onLog(TrainerState state, Map<String, Object> entry) {
        double seconds = (System.nanoTime() - startNanos) / 1e9;
        int updates = state.global_step - firstStep;
        Map<String, Object> line = new LinkedHashMap<>();
        line.put("event", entry.containsKey("eval_loss") ? "eval" : entry.containsKey("train_runtime") ? "summary" : "train");
        line.put("output", output == null ? null : output.toString());
        line.put("max_steps", state.max_steps);
        line.putAll(entry);
        line.put("elapsed_seconds", Trainer.round(seconds));
        line.put("eta_seconds", updates == 0 ? null : Trainer.round(seconds / updates * (state.max_steps - state.global_step)));
        line.put("rss_mb", ResidentMemory.megabytes());
        try {
            LOG.info(JSON.writeValueAsString(line));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("a log entry is not JSON-serialisable: " + entry, e);
        }
    }
}
