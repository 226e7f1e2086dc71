package io.gpt2cls.infra;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

/**
 * AWS's resource specification, as far as our template needs it: the committed subset
 * {@code infra/spec/cfn-spec-subset.json}, generated from the npm package {@code @aws-cdk/aws-service-spec}
 * (CloudFormation resource types and the {@code AWS::Serverless::*} types) by {@code infra/spec/update-spec.sh}.
 *
 * <p>A type expression is a JSON object: {@code {"type": "string" | "number" | "integer" | "boolean" |
 * "date-time" | "json" | "tag"}}, {@code {"type": "array" | "map", "element": ...}}, {@code {"type": "ref",
 * "ref": "AWS::S3::Bucket.LifecycleConfiguration"}} or {@code {"type": "union", "types": [...]}}.
 */
public final class ServiceSpec {

    public static final Path SUBSET = Path.of("infra/spec/cfn-spec-subset.json");

    /** A property of a resource or of a property type. */
    public record Property(JsonNode type, boolean required) {}

    private final JsonNode root;
    private final Set<String> allResourceTypes = new HashSet<>();

    private ServiceSpec(JsonNode root) {
        this.root = root;
        root.path("resourceTypeNames").forEach(name -> allResourceTypes.add(name.asText()));
    }

    public static ServiceSpec load() throws IOException {
        return new ServiceSpec(new ObjectMapper().readTree(SUBSET.toFile()));
    }

    /** The package and version the subset was generated from. */
    public String source() {
        return root.path("source").path("package").asText() + "@" + root.path("source").path("version").asText();
    }

    /** Whether AWS knows this resource type at all. */
    public boolean exists(String resourceType) {
        return allResourceTypes.contains(resourceType);
    }

    /** Whether the committed subset describes this type's properties (it holds the types the template uses). */
    public boolean describes(String resourceType) {
        return root.path("resources").has(resourceType);
    }

    public Map<String, Property> resourceProperties(String resourceType) {
        return properties(root.path("resources").path(resourceType).path("properties"));
    }

    public Set<String> attributes(String resourceType) {
        Set<String> attributes = new HashSet<>();
        root.path("resources").path(resourceType).path("attributes").forEach(a -> attributes.add(a.asText()));
        return attributes;
    }

    public Map<String, Property> propertyType(String key) {
        JsonNode type = root.path("propertyTypes").get(key);
        if (type == null) {
            throw new IllegalStateException("the spec subset names property type " + key + " but does not define it");
        }
        return properties(type.path("properties"));
    }

    private static Map<String, Property> properties(JsonNode node) {
        Map<String, Property> properties = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> properties.put(e.getKey(),
                new Property(e.getValue().path("type"), e.getValue().path("required").asBoolean(false))));
        return properties;
    }
}
