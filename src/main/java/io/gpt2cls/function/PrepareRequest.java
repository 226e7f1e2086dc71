package io.gpt2cls.function;

import java.io.IOException;
import java.util.List;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonDeserialize;
import com.fasterxml.jackson.databind.deser.std.StdDeserializer;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

import io.gpt2cls.dataset.PrepareSpec;

/**
 * Validate and tokenize a labelled text dataset (JSONL, CSV/TSV, optionally .gz, or Parquet) into shards +
 * manifest.json. The same function also takes the S3 and EventBridge "object created" events ({@link PrepareTrigger}).
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public class PrepareRequest extends StrictRequest {
    private static final PrepareSpec DEFAULTS = new PrepareSpec();

    /** Training rows: a file, a directory or prefix of part files, or a pattern such as {@code s3://b/imdb/train-*.parquet}. */
    public String train;
    /** Optional test rows, given the same way; without them a stratified test split is taken from {@code train}. */
    public String test;
    /** tokenizer.json (or a model directory holding one, or a Hub model id); GPT-2's when absent. */
    public String tokenizer;
    /** Where the prepared dataset goes. */
    public String output;
    public String textColumn = DEFAULTS.textColumn;
    public String labelColumn = DEFAULTS.labelColumn;
    /** Tokens kept per text (truncation on the right); at most the model's n_positions. */
    public int maxLength = DEFAULTS.maxLength;
    /** "right" keeps the start of a long text, "left" its end; the trained model serves the same way. */
    public String truncationSide = DEFAULTS.truncationSide;
    public double testFraction = DEFAULTS.testFraction;
    public long seed = DEFAULTS.seed;
    /** Optional fixed label order; rows with other labels are rejected. Names or integers, as in the data. */
    @JsonDeserialize(contentUsing = LabelName.class)
    public List<String> labels;
    /** Largest shard file (64 MiB by default). */
    public long maxShardBytes = DEFAULTS.maxShardBytes;
    /** Leave test rows whose exact text is also in train out of the test split (reported as rejected rows). */
    public boolean dropLeakedTestRows = DEFAULTS.dropLeakedTestRows;

    /** Set instead of the fields above when the request is an S3 or EventBridge "object created" event. */
    @JsonIgnore
    List<PrepareTrigger.ObjectCreated> triggeredBy;

    static PrepareRequest triggeredBy(List<PrepareTrigger.ObjectCreated> objects) {
        PrepareRequest request = new PrepareRequest();
        request.triggeredBy = objects;
        return request;
    }

    /** A label as the data holds it: a string, or an integer (kept as its decimal text). */
    static final class LabelName extends StdDeserializer<String> {
        LabelName() {
            super(String.class);
        }

        @Override
        public String deserialize(JsonParser parser, DeserializationContext context) throws IOException {
            if (parser.currentToken() == JsonToken.VALUE_STRING || parser.currentToken() == JsonToken.VALUE_NUMBER_INT) {
                return parser.getText();
            }
            return (String) context.handleUnexpectedToken(String.class, parser);
        }
    }
}
