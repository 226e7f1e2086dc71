package io.gpt2cls.function;

import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

import com.fasterxml.jackson.annotation.JsonSetter;
import com.fasterxml.jackson.annotation.Nulls;
import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.core.io.JsonEOFException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonMappingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.MapperFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.CoercionAction;
import com.fasterxml.jackson.databind.cfg.CoercionInputShape;
import com.fasterxml.jackson.databind.exc.InvalidNullException;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import com.fasterxml.jackson.databind.exc.ValueInstantiationException;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.type.LogicalType;

import io.gpt2cls.runtime.ActionableException;

/**
 * Reads requests strictly and explains every problem in the request's own terms: which field, what
 * was expected, what was sent. Nothing a caller sees is a parser's or a Java class's wording.
 *
 * <ul>
 *   <li>The body must be one JSON object: not null, not an array, nothing after it, no key twice.</li>
 *   <li>Unknown fields are errors that list the known ones (a typo never falls back to a default).</li>
 *   <li>No type coercion: 1.5 is not an integer, "5" is not a number, 5 is not a text.</li>
 *   <li>{@code null} means "not given" (the default applies), except inside lists.</li>
 * </ul>
 */
public final class RequestParser {

    /** Requests are small: deeper nesting than this is an attack or a mistake. */
    static final int MAX_NESTING = 64;
    static final int MAX_NUMBER_DIGITS = 100;
    /** Long enough for a batch of texts at classify's byte limit; the services enforce their own limits after. */
    static final int MAX_STRING_CHARS = 8_000_000;

    static final StreamReadConstraints LIMITS = StreamReadConstraints.builder()
            .maxNestingDepth(MAX_NESTING)
            .maxNumberLength(MAX_NUMBER_DIGITS)
            .maxStringLength(MAX_STRING_CHARS)
            .build();

    private static final JsonFactory FACTORY = JsonFactory.builder()
            .enable(com.fasterxml.jackson.core.StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .streamReadConstraints(LIMITS)
            .build();

    static final ObjectMapper STRICT = strictMapper();
    /** Reads one value and leaves what follows it to {@link #readTree}, which says what is wrong with it. */
    private static final ObjectReader TREE = STRICT.reader().without(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private static final Pattern DUPLICATE = Pattern.compile("Duplicate field '(.*)'");
    private static final Pattern LIMIT = Pattern.compile("maximum allowed \\((\\d+)");

    private RequestParser() {}

    private static ObjectMapper strictMapper() {
        ObjectMapper mapper = JsonMapper.builder(FACTORY)
                .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
                .disable(DeserializationFeature.ACCEPT_FLOAT_AS_INT)
                .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
                .enable(DeserializationFeature.FAIL_ON_NUMBERS_FOR_ENUMS)
                .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
                .disable(MapperFeature.ALLOW_COERCION_OF_SCALARS)
                .defaultSetterInfo(JsonSetter.Value.construct(Nulls.SKIP, Nulls.FAIL))
                .build();
        for (LogicalType type : List.of(LogicalType.Textual, LogicalType.Integer, LogicalType.Float, LogicalType.Boolean,
                LogicalType.Enum, LogicalType.Collection, LogicalType.POJO, LogicalType.Map)) {
            mapper.coercionConfigFor(type)
                    .setCoercion(CoercionInputShape.Integer, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Float, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.Boolean, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.String, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyString, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyArray, CoercionAction.Fail)
                    .setCoercion(CoercionInputShape.EmptyObject, CoercionAction.Fail);
        }
        // the natural inputs of each type stay allowed: whole numbers for decimals, texts for texts and enums
        mapper.coercionConfigFor(LogicalType.Float).setCoercion(CoercionInputShape.Integer, CoercionAction.TryConvert);
        mapper.coercionConfigFor(LogicalType.Textual).setCoercion(CoercionInputShape.String, CoercionAction.TryConvert)
                .setCoercion(CoercionInputShape.EmptyString, CoercionAction.TryConvert);
        mapper.coercionConfigFor(LogicalType.Enum).setCoercion(CoercionInputShape.String, CoercionAction.TryConvert);
        mapper.coercionConfigFor(LogicalType.Collection).setCoercion(CoercionInputShape.EmptyArray, CoercionAction.TryConvert);
        mapper.coercionConfigFor(LogicalType.POJO).setCoercion(CoercionInputShape.EmptyObject, CoercionAction.TryConvert);
        mapper.coercionConfigFor(LogicalType.Map).setCoercion(CoercionInputShape.EmptyObject, CoercionAction.TryConvert);
        return mapper;
    }

    /** Reads and binds a whole request document (a file, stdin, an HTTP body). */
    public static <T extends StrictRequest> T parse(InputStream in, Class<T> type) {
        try (JsonParser parser = FACTORY.createParser(in)) {
            JsonToken first;
            try {
                first = parser.nextToken();
            } catch (JsonProcessingException e) {
                throw syntaxError(e, parser.currentLocation());
            }
            if (first == null) {
                throw new InvalidRequestException(null, "the request is empty; send a JSON object");
            }
            return bind(readTree(parser), type);
        } catch (IOException e) {
            throw new InvalidRequestException(null, "the request could not be read: " + e.getMessage());
        }
    }

    public static <T extends StrictRequest> T parse(String json, Class<T> type) {
        return parse(new java.io.ByteArrayInputStream(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)), type);
    }

    /**
     * Reads the value at the parser's current token and checks nothing follows it. Duplicate keys
     * and over-long or over-deep values are errors whatever factory made the parser.
     */
    static JsonNode readTree(JsonParser parser) {
        parser.enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION);
        try {
            if (parser.currentToken() == JsonToken.VALUE_NULL) {
                throw nullBody();
            }
            JsonNode tree = TREE.readTree(parser);
            JsonLocation end = parser.currentLocation();
            JsonToken next;
            try {
                next = parser.nextToken();
            } catch (JsonProcessingException e) {
                next = JsonToken.NOT_AVAILABLE;
            }
            if (next != null) {
                throw new InvalidRequestException(null, "the request has more content after its JSON object (from line "
                        + end.getLineNr() + ", column " + end.getColumnNr() + "); send exactly one JSON object");
            }
            if (tree == null || tree.isNull()) {
                throw nullBody();
            }
            if (!tree.isObject()) {
                throw new InvalidRequestException(null, "the request must be a JSON object with named fields, got "
                        + describe(tree));
            }
            return tree;
        } catch (InvalidRequestException e) {
            throw e;
        } catch (JsonProcessingException e) {
            throw syntaxError(e, parser.currentLocation());
        } catch (IOException e) {
            throw new InvalidRequestException(null, "the request could not be read: " + e.getMessage());
        }
    }

    static InvalidRequestException nullBody() {
        return new InvalidRequestException(null, "the request is null; send a JSON object with the function's fields");
    }

    /** Binds a JSON object to a request class, translating every binding problem into the request's terms. */
    public static <T extends StrictRequest> T bind(JsonNode tree, Class<T> type) {
        if (type == PrepareRequest.class && PrepareTrigger.isEvent(tree)) {
            List<PrepareTrigger.ObjectCreated> objects = PrepareTrigger.objectsCreated(tree);
            if (objects.isEmpty()) {
                throw new InvalidRequestException(null, "the event announces no created S3 object; prepare takes the S3"
                        + " ObjectCreated notification or EventBridge's \"Object Created\" event, or a prepare request");
            }
            return type.cast(PrepareRequest.triggeredBy(objects));
        }
        if (type == ClassifyRequest.class && ClassifyEvents.isBatch(tree)) {
            return type.cast(ClassifyEvents.batch(tree));
        }
        if (type == ClassifyRequest.class && ClassifyEvents.isHttp(tree)) {
            return type.cast(ClassifyEvents.http(tree));
        }
        try {
            T request = STRICT.treeToValue(tree, type);
            if (tree instanceof ObjectNode given) {
                request.readFrom(given);
            }
            return request;
        } catch (UnrecognizedPropertyException e) {
            String parent = path(e.getPath().subList(0, e.getPath().size() - 1));
            String field = parent.isEmpty() ? e.getPropertyName() : parent + "." + e.getPropertyName();
            throw new InvalidRequestException(field, "unknown field '" + field + "'; the fields "
                    + (parent.isEmpty() ? "of the request" : "of '" + parent + "'") + " are: " + names(e.getKnownPropertyIds()));
        } catch (ValueInstantiationException e) {
            String field = path(e.getPath());
            Throwable cause = e.getCause() != null ? e.getCause() : e;
            throw new InvalidRequestException(field, "field '" + field + "': " + cause.getMessage());
        } catch (InvalidNullException e) {
            String field = path(e.getPath());
            throw new InvalidRequestException(field, "field '" + field + "' must be " + expected(e.getTargetType()) + ", got null");
        } catch (JsonMappingException e) {
            String field = path(e.getPath());
            if (e.getCause() instanceof ActionableException actionable) {
                throw new InvalidRequestException(field, "field '" + field + "': " + actionable.getMessage());
            }
            JsonNode sent = at(tree, e.getPath());
            Type target = e instanceof com.fasterxml.jackson.databind.exc.MismatchedInputException mismatch ? mismatch.getTargetType() : null;
            throw new InvalidRequestException(field, "field '" + field + "' must be " + expected(target)
                    + (sent == null ? "" : ", got " + describe(sent)));
        } catch (JsonProcessingException e) {
            throw syntaxError(e, null);
        }
    }

    private static InvalidRequestException syntaxError(JsonProcessingException e, JsonLocation current) {
        JsonLocation where = e.getLocation() != null ? e.getLocation() : current;
        String at = where == null ? "" : " at line " + where.getLineNr() + ", column " + where.getColumnNr();
        if (e instanceof StreamConstraintsException) {
            String message = String.valueOf(e.getOriginalMessage());
            Matcher limit = LIMIT.matcher(message);
            String max = limit.find() ? limit.group(1) : "the allowed";
            if (message.startsWith("Document nesting depth")) {
                return new InvalidRequestException(null, "the request nests objects or lists more than " + max + " levels deep" + at);
            }
            if (message.startsWith("Number value length")) {
                return new InvalidRequestException(null, "the request holds a number longer than " + max + " digits" + at);
            }
            if (message.startsWith("String value length")) {
                return new InvalidRequestException(null, "the request holds a text longer than " + max + " characters" + at
                        + "; send less per request");
            }
            return new InvalidRequestException(null, "the request exceeds a size limit" + at);
        }
        Matcher duplicate = DUPLICATE.matcher(String.valueOf(e.getOriginalMessage()));
        if (duplicate.find()) {
            return new InvalidRequestException(duplicate.group(1), "field '" + duplicate.group(1)
                    + "' appears more than once" + at + "; send each field once");
        }
        if (e instanceof JsonEOFException) {
            return new InvalidRequestException(null, "the request ends in the middle of a JSON value" + at
                    + " (an unclosed object, list or string)");
        }
        return new InvalidRequestException(null, "the request is not valid JSON" + at);
    }

    /** {@code training.learning_rate}, {@code texts[2]}: a path in the request's own names. */
    private static String path(List<JsonMappingException.Reference> references) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference reference : references) {
            if (reference.getFieldName() != null) {
                if (path.length() > 0) {
                    path.append('.');
                }
                path.append(reference.getFieldName());
            } else if (reference.getIndex() >= 0) {
                path.append('[').append(reference.getIndex()).append(']');
            }
        }
        return path.toString();
    }

    private static JsonNode at(JsonNode tree, List<JsonMappingException.Reference> references) {
        JsonNode node = tree;
        for (JsonMappingException.Reference reference : references) {
            if (node == null) {
                return null;
            }
            node = reference.getFieldName() != null ? node.get(reference.getFieldName()) : node.get(reference.getIndex());
        }
        return node;
    }

    private static String names(Collection<Object> names) {
        return names.stream().map(String::valueOf).sorted().collect(Collectors.joining(", "));
    }

    /** What a field of this Java type accepts, in JSON words. */
    static String expected(Type type) {
        if (!(type instanceof Class<?> c)) {
            return type != null && type.getTypeName().startsWith("java.util.List") ? "a list" : "a value of the right type";
        }
        if (c == int.class || c == Integer.class || c == long.class || c == Long.class) {
            return "a whole number";
        }
        if (c == double.class || c == Double.class || c == float.class || c == Float.class) {
            return "a number";
        }
        if (c == boolean.class || c == Boolean.class) {
            return "true or false";
        }
        if (c == String.class) {
            return "a text (a JSON string)";
        }
        if (c.isEnum()) {
            return "one of " + java.util.Arrays.stream(c.getEnumConstants()).map(Object::toString).collect(Collectors.joining(", "));
        }
        if (Collection.class.isAssignableFrom(c) || c.isArray()) {
            return "a list";
        }
        if (Map.class.isAssignableFrom(c)) {
            return "an object";
        }
        return "an object";
    }

    /** A JSON value as a person would name it, with the value itself when it is short. */
    static String describe(JsonNode node) {
        if (node.isNull()) {
            return "null";
        }
        if (node.isObject()) {
            return "an object";
        }
        if (node.isArray()) {
            return "a list";
        }
        if (node.isBoolean()) {
            return node.asText();
        }
        if (node.isNumber()) {
            String text = node.asText();
            return text.length() > 20 ? "a number" : text;
        }
        if (node.isTextual()) {
            String text = node.textValue();
            return text.length() > 40 ? "a text" : "the text \"" + text + "\"";
        }
        return "a " + node.getNodeType().toString().toLowerCase(java.util.Locale.ROOT);
    }
}
