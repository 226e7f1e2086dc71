package io.gpt2cls.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * {@code infra/template.yaml} for the wiring tests: its resources, and values with the parameters and
 * pseudo parameters filled in for a sample deployment (the bucket of the payloads in {@code events/}),
 * the way CloudFormation would resolve them.
 */
public final class Template {

    public static final Path FILE = Path.of("infra/template.yaml");
    public static final String BUCKET = "gpt2cls-data-123456789012";
    public static final String STACK = "gpt2cls";
    private static final Pattern VARIABLE = Pattern.compile("\\$\\{([^}!][^}]*)}");
    private static final ObjectMapper JSON = new ObjectMapper();

    public final Map<String, Object> root;
    private final Map<String, String> values = new LinkedHashMap<>();

    private Template(Map<String, Object> root) {
        this.root = root;
        values.put("AWS::Partition", "aws");
        values.put("AWS::Region", "us-east-1");
        values.put("AWS::AccountId", "123456789012");
        values.put("AWS::StackName", STACK);
        values.put("AWS::URLSuffix", "amazonaws.com");
        section("Parameters").forEach((name, parameter) -> {
            Object fallback = ((Map<?, ?>) parameter).get("Default");
            values.put(name, fallback == null ? null : String.valueOf(fallback));
        });
        values.put("BucketName", BUCKET);
    }

    public static Template load() {
        try {
            return new Template(CfnYaml.load(FILE));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> section(String name) {
        return (Map<String, Object>) root.getOrDefault(name, Map.of());
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> resource(String id) {
        Map<String, Object> resource = (Map<String, Object>) section("Resources").get(id);
        if (resource == null) {
            throw new AssertionError("the template has no resource " + id);
        }
        return resource;
    }

    @SuppressWarnings("unchecked")
    public Map<String, Object> properties(String id) {
        return (Map<String, Object>) resource(id).getOrDefault("Properties", Map.of());
    }

    /** Logical IDs of the resources of a type. */
    public List<String> resourcesOfType(String type) {
        List<String> ids = new ArrayList<>();
        section("Resources").forEach((id, r) -> {
            if (type.equals(((Map<?, ?>) r).get("Type"))) {
                ids.add(id);
            }
        });
        return ids;
    }

    /**
     * A value with parameters, pseudo parameters and Fn::Sub resolved; Ref/GetAtt of resources become
     * "arn-of:Id" / "Id.Attribute" (what a test can compare), Fn::If takes its value-if-true branch.
     */
    public Object resolve(Object value) {
        if (value instanceof List<?> list) {
            return list.stream().map(this::resolve).toList();
        }
        if (!(value instanceof Map<?, ?> map)) {
            return value;
        }
        if (map.size() == 1 && map.get("Ref") instanceof String name) {
            return values.containsKey(name) ? values.get(name) : "arn-of:" + name;
        }
        if (map.size() == 1 && map.get("Fn::GetAtt") instanceof List<?> att) {
            return att.get(0) + "." + att.get(1);
        }
        if (map.size() == 1 && map.containsKey("Fn::Sub")) {
            return substitute(map.get("Fn::Sub"));
        }
        if (map.size() == 1 && map.get("Fn::If") instanceof List<?> branches) {
            return resolve(branches.get(1));
        }
        Map<Object, Object> out = new LinkedHashMap<>();
        map.forEach((k, v) -> out.put(k, resolve(v)));
        return out;
    }

    private String substitute(Object sub) {
        String text = sub instanceof List<?> l ? (String) l.get(0) : (String) sub;
        Matcher m = VARIABLE.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String name = m.group(1);
            String value = values.containsKey(name) ? values.get(name) : name.contains(".") ? name : "arn-of:" + name;
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        return m.appendTail(out).toString();
    }

    /** A resolved value as JSON, for event patterns and state machine definitions. */
    public JsonNode json(Object value) {
        return JSON.valueToTree(resolve(value));
    }
}
