package io.gpt2cls.function;

import java.util.ArrayList;
import java.util.List;

import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/** One text ({@code text}) or several ({@code texts}); both may be given, {@code text} comes first. */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class ClassifyRequest extends StrictRequest {
    public String text;
    public List<String> texts;

    List<String> allTexts() {
        List<String> all = new ArrayList<>();
        if (text != null) {
            all.add(text);
        }
        if (texts != null) {
            all.addAll(texts);
        }
        return all;
    }
}
