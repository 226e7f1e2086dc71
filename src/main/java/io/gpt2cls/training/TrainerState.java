package io.gpt2cls.training;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/** Hugging Face's {@code trainer_state.json}: progress, the log history, and the best checkpoint. */
public class TrainerState {
    static final String FILE = "trainer_state.json";
    static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    @JsonProperty("global_step") public int global_step;
    @JsonProperty("epoch") public double epoch;
    @JsonProperty("max_steps") public int max_steps;
    @JsonProperty("num_train_epochs") public int num_train_epochs;
    @JsonProperty("logging_steps") public int logging_steps;
    @JsonProperty("train_batch_size") public int train_batch_size;
    @JsonProperty("best_metric") public Double best_metric;
    @JsonProperty("best_model_checkpoint") public String best_model_checkpoint;
    @JsonProperty("is_world_process_zero") public boolean is_world_process_zero = true;
    @JsonProperty("log_history") public List<Map<String, Object>> log_history = new ArrayList<>();

    void write(Path dir) throws IOException {
        Files.writeString(dir.resolve(FILE), JSON.writeValueAsString(this));
    }

    public static TrainerState read(Path dir) throws IOException {
        return JSON.readValue(dir.resolve(FILE).toFile(), TrainerState.class);
    }
}
