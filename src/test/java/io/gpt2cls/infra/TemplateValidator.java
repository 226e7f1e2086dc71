package io.gpt2cls.infra;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Checks a CloudFormation/SAM template (as {@link CfnYaml} reads it) against AWS's resource specification
 * ({@link ServiceSpec}) before anything is deployed:
 *
 * <ul>
 *   <li>every resource type exists, and every property name at every nesting level is one the type has,
 *       with the right shape (object, list, map, scalar); required properties are present;</li>
 *   <li>{@code Ref}, {@code Fn::GetAtt} and {@code Fn::Sub} name parameters, resources (including those
 *       SAM generates: {@code <Function>Role}, {@code <Function>Url}, {@code <Function>.Alias}) or pseudo
 *       parameters that exist, and GetAtt attributes the type has;</li>
 *   <li>a resource that exists only under a condition is referred to only where that condition holds
 *       (its own {@code Condition}, or the true branch of an {@code Fn::If} on it);</li>
 *   <li>conditions, {@code DependsOn} targets and a SAM state machine's {@code DefinitionSubstitutions}
 *       match what uses them.</li>
 * </ul>
 *
 * Values given by intrinsic functions are not typed (their result is known only at deploy time), except
 * {@code Fn::If}, whose two branches are each checked.
 */
public final class TemplateValidator {

    static final Set<String> PSEUDO_PARAMETERS = Set.of("AWS::AccountId", "AWS::NotificationARNs", "AWS::NoValue",
            "AWS::Partition", "AWS::Region", "AWS::StackId", "AWS::StackName", "AWS::URLSuffix");
    static final Set<String> TOP_LEVEL = Set.of("AWSTemplateFormatVersion", "Description", "Metadata", "Parameters",
            "Mappings", "Conditions", "Transform", "Resources", "Outputs", "Rules", "Globals");
    static final Set<String> RESOURCE_KEYS = Set.of("Type", "Properties", "DependsOn", "Condition", "Metadata",
            "DeletionPolicy", "UpdateReplacePolicy", "UpdatePolicy", "CreationPolicy");
    static final Set<String> PARAMETER_KEYS = Set.of("Type", "Default", "AllowedValues", "AllowedPattern", "Description",
            "ConstraintDescription", "MaxLength", "MinLength", "MaxValue", "MinValue", "NoEcho");
    static final Set<String> OUTPUT_KEYS = Set.of("Description", "Value", "Export", "Condition");
    static final Pattern PARAMETER_TYPE = Pattern.compile("String|Number|List<Number>|CommaDelimitedList"
            + "|AWS::[A-Za-z0-9:]+|List<AWS::[A-Za-z0-9:]+>|AWS::SSM::Parameter::Value<.+>");
    /** A SAM resource's GetAtt attributes are those of the CloudFormation resource it becomes. */
    static final Map<String, String> SAM_TWIN = Map.of(
            "AWS::Serverless::Function", "AWS::Lambda::Function",
            "AWS::Serverless::StateMachine", "AWS::StepFunctions::StateMachine");
    private static final Pattern SUB_VARIABLE = Pattern.compile("\\$\\{([^}]*)}");

    private final ServiceSpec spec;
    private final List<String> errors = new ArrayList<>();
    private Map<String, Object> parameters = Map.of();
    private Map<String, Object> conditions = Map.of();
    /** Every logical ID a Ref or GetAtt may name, with its CloudFormation type and the condition it exists under. */
    private final Map<String, Referable> referable = new LinkedHashMap<>();

    private record Referable(String type, String condition) {}

    private TemplateValidator(ServiceSpec spec) {
        this.spec = spec;
    }

    /** The template's problems, each as "path: what is wrong"; empty when it is valid. */
    public static List<String> validate(Map<String, Object> template, ServiceSpec spec) {
        TemplateValidator validator = new TemplateValidator(spec);
        validator.run(template);
        return validator.errors;
    }

    private void run(Map<String, Object> template) {
        for (String key : template.keySet()) {
            if (!TOP_LEVEL.contains(key)) {
                errors.add(key + ": not a template section; the sections are " + new TreeSet<>(TOP_LEVEL));
            }
        }
        parameters = map(template.get("Parameters"), "Parameters");
        conditions = map(template.get("Conditions"), "Conditions");
        Map<String, Object> resources = map(template.get("Resources"), "Resources");
        if (resources.isEmpty()) {
            errors.add("Resources: a template needs at least one resource");
        }
        parameters.forEach(this::checkParameter);
        resources.forEach(this::declare);
        conditions.forEach((name, condition) -> references(condition, "Conditions." + name, Set.of(), true));
        resources.forEach(this::checkResource);
        map(template.get("Outputs"), "Outputs").forEach(this::checkOutput);
    }

    // ---- sections -----------------------------------------------------------------------------------

    private void checkParameter(String name, Object value) {
        String path = "Parameters." + name;
        Map<String, Object> parameter = map(value, path);
        parameter.keySet().stream().filter(k -> !PARAMETER_KEYS.contains(k))
                .forEach(k -> errors.add(path + "." + k + ": not a parameter attribute; they are " + new TreeSet<>(PARAMETER_KEYS)));
        Object type = parameter.get("Type");
        if (!(type instanceof String t) || !PARAMETER_TYPE.matcher(t).matches()) {
            errors.add(path + ".Type: '" + type + "' is not a parameter type");
        }
        if (parameter.get("AllowedValues") instanceof List<?> allowed && parameter.containsKey("Default")
                && !allowed.stream().map(String::valueOf).toList().contains(String.valueOf(parameter.get("Default")))) {
            errors.add(path + ".Default: " + parameter.get("Default") + " is not one of its AllowedValues " + allowed);
        }
    }

    /** Records a resource and what SAM will generate from it, so references to either can be checked. */
    private void declare(String id, Object value) {
        Map<String, Object> resource = map(value, "Resources." + id);
        String type = resource.get("Type") instanceof String t ? t : "?";
        String condition = resource.get("Condition") instanceof String c ? c : null;
        referable.put(id, new Referable(type, condition));
        Map<String, Object> properties = resource.get("Properties") instanceof Map<?, ?> ? map(resource.get("Properties"), id) : Map.of();
        if (type.equals("AWS::Serverless::Function")) {
            if (!properties.containsKey("Role")) {
                referable.put(id + "Role", new Referable("AWS::IAM::Role", condition));
            }
            if (properties.containsKey("FunctionUrlConfig")) {
                referable.put(id + "Url", new Referable("AWS::Lambda::Url", condition));
            }
            if (properties.get("AutoPublishAlias") instanceof String alias) {
                referable.put(id + "Alias" + alias, new Referable("AWS::Lambda::Alias", condition));
                referable.put(id + ".Alias", new Referable("AWS::Lambda::Alias", condition));
                referable.put(id + ".Version", new Referable("AWS::Lambda::Version", condition));
            }
        } else if (type.equals("AWS::Serverless::StateMachine") && !properties.containsKey("Role")) {
            referable.put(id + "Role", new Referable("AWS::IAM::Role", condition));
        }
    }

    private void checkResource(String id, Object value) {
        String path = "Resources." + id;
        Map<String, Object> resource = map(value, path);
        resource.keySet().stream().filter(k -> !RESOURCE_KEYS.contains(k))
                .forEach(k -> errors.add(path + "." + k + ": not a resource attribute; they are " + new TreeSet<>(RESOURCE_KEYS)));
        Set<String> holding = new HashSet<>();
        if (resource.containsKey("Condition")) {
            String condition = String.valueOf(resource.get("Condition"));
            if (!conditions.containsKey(condition)) {
                errors.add(path + ".Condition: no condition named '" + condition + "'");
            }
            holding.add(condition);
        }
        Object dependsOn = resource.get("DependsOn");
        for (Object target : dependsOn instanceof List<?> list ? list : dependsOn == null ? List.of() : List.of(dependsOn)) {
            if (!referable.containsKey(String.valueOf(target)) || String.valueOf(target).contains(".")) {
                errors.add(path + ".DependsOn: no resource named '" + target + "'");
            }
        }
        Object type = resource.get("Type");
        if (!(type instanceof String resourceType)) {
            errors.add(path + ".Type: missing");
            return;
        }
        Object properties = resource.getOrDefault("Properties", Map.of());
        references(properties, path + ".Properties", holding, false);
        if (!spec.exists(resourceType)) {
            errors.add(path + ".Type: " + resourceType + " is not a resource type in " + spec.source());
            return;
        }
        if (!spec.describes(resourceType)) {
            errors.add(path + ".Type: " + resourceType + " is not in the committed spec subset; run infra/spec/update-spec.sh");
            return;
        }
        if (!isIntrinsic(properties)) {
            checkObject(properties, spec.resourceProperties(resourceType), path + ".Properties", errors);
        }
        if (resourceType.equals("AWS::Serverless::StateMachine") && properties instanceof Map<?, ?> props) {
            checkDefinitionSubstitutions(map(props, path), path + ".Properties");
        }
    }

    private void checkOutput(String name, Object value) {
        String path = "Outputs." + name;
        Map<String, Object> output = map(value, path);
        output.keySet().stream().filter(k -> !OUTPUT_KEYS.contains(k))
                .forEach(k -> errors.add(path + "." + k + ": not an output attribute; they are " + new TreeSet<>(OUTPUT_KEYS)));
        if (!output.containsKey("Value")) {
            errors.add(path + ": an output needs a Value");
        }
        Set<String> holding = new HashSet<>();
        if (output.get("Condition") instanceof String condition) {
            if (!conditions.containsKey(condition)) {
                errors.add(path + ".Condition: no condition named '" + condition + "'");
            }
            holding.add(condition);
        }
        references(output, path, holding, false);
    }

    /** Every ${Name} in a SAM state machine's Definition has a DefinitionSubstitutions entry, and every entry is used. */
    private void checkDefinitionSubstitutions(Map<String, Object> properties, String path) {
        Set<String> used = new TreeSet<>();
        collectPlaceholders(properties.get("Definition"), used);
        Set<String> given = properties.get("DefinitionSubstitutions") instanceof Map<?, ?> m
                ? new TreeSet<>(map(m, path).keySet()) : Set.of();
        for (String name : used) {
            if (!given.contains(name)) {
                errors.add(path + ".Definition: ${" + name + "} has no DefinitionSubstitutions entry");
            }
        }
        for (String name : given) {
            if (!used.contains(name)) {
                errors.add(path + ".DefinitionSubstitutions." + name + ": not used in the Definition");
            }
        }
    }

    private static void collectPlaceholders(Object value, Set<String> into) {
        if (value instanceof String text) {
            Matcher m = SUB_VARIABLE.matcher(text);
            while (m.find()) {
                into.add(m.group(1));
            }
        } else if (value instanceof Map<?, ?> map) {
            map.forEach((k, v) -> {
                collectPlaceholders(k, into);
                collectPlaceholders(v, into);
            });
        } else if (value instanceof List<?> list) {
            list.forEach(v -> collectPlaceholders(v, into));
        }
    }

    // ---- references ---------------------------------------------------------------------------------

    /**
     * Checks every intrinsic function below {@code value}. {@code holding}: the conditions known to be
     * true here; {@code inConditions}: inside the Conditions section, where only parameters may be named.
     */
    private void references(Object value, String path, Set<String> holding, boolean inConditions) {
        if (value instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                references(list.get(i), path + "[" + i + "]", holding, inConditions);
            }
            return;
        }
        if (!(value instanceof Map<?, ?> raw)) {
            return;
        }
        Map<String, Object> node = map(raw, path);
        String only = node.size() == 1 ? node.keySet().iterator().next() : "";
        if (isFunctionName(only) && (inConditions || !only.equals("Condition"))) {
            String function = node.keySet().iterator().next();
            Object args = node.get(function);
            switch (function) {
                case "Ref" -> ref(String.valueOf(args), path, holding, inConditions);
                case "Fn::GetAtt" -> getAtt(args, path, holding);
                case "Fn::Sub" -> sub(args, path, holding);
                case "Fn::If" -> {
                    List<?> branches = args instanceof List<?> l ? l : List.of();
                    if (branches.size() != 3 || !(branches.get(0) instanceof String condition)) {
                        errors.add(path + ": Fn::If takes [condition name, value if true, value if false]");
                        return;
                    }
                    if (!conditions.containsKey(condition)) {
                        errors.add(path + ": Fn::If names no condition '" + condition + "'");
                    }
                    Set<String> inTrue = new HashSet<>(holding);
                    inTrue.add(condition);
                    references(branches.get(1), path + "[if " + condition + "]", inTrue, inConditions);
                    references(branches.get(2), path + "[if not " + condition + "]", holding, inConditions);
                }
                case "Condition" -> {
                    if (!conditions.containsKey(String.valueOf(args))) {
                        errors.add(path + ": no condition named '" + args + "'");
                    }
                }
                default -> references(args, path + "." + function, holding, inConditions);
            }
            return;
        }
        node.forEach((k, v) -> references(v, path + "." + k, holding, inConditions));
    }

    private void ref(String target, String path, Set<String> holding, boolean inConditions) {
        if (parameters.containsKey(target) || PSEUDO_PARAMETERS.contains(target)) {
            return;
        }
        if (inConditions) {
            errors.add(path + ": conditions may name only parameters, and '" + target + "' is none");
        } else if (!referable.containsKey(target)) {
            errors.add(path + ": Ref names '" + target + "', which is no parameter, resource or pseudo parameter");
        } else {
            requireCondition(target, path, holding);
        }
    }

    private void getAtt(Object args, String path, Set<String> holding) {
        if (!(args instanceof List<?> list) || list.size() != 2 || !(list.get(0) instanceof String resource)) {
            errors.add(path + ": Fn::GetAtt takes [resource, attribute]");
            return;
        }
        Referable target = referable.get(resource);
        if (target == null) {
            errors.add(path + ": GetAtt names '" + resource + "', which is no resource");
            return;
        }
        requireCondition(resource, path, holding);
        if (list.get(1) instanceof String attribute) {
            String type = SAM_TWIN.getOrDefault(target.type(), target.type());
            if (spec.describes(type) && !spec.attributes(type).contains(attribute)) {
                errors.add(path + ": " + type + " has no attribute '" + attribute + "'; it has " + new TreeSet<>(spec.attributes(type)));
            }
        }
    }

    private void sub(Object args, String path, Set<String> holding) {
        String text;
        Set<String> local = Set.of();
        if (args instanceof String s) {
            text = s;
        } else if (args instanceof List<?> list && list.size() == 2 && list.get(0) instanceof String s && list.get(1) instanceof Map<?, ?> vars) {
            text = s;
            local = map(vars, path).keySet();
            references(vars, path + ".variables", holding, false);
        } else {
            errors.add(path + ": Fn::Sub takes a string, or [string, {variable: value}]");
            return;
        }
        Matcher m = SUB_VARIABLE.matcher(text);
        while (m.find()) {
            String variable = m.group(1).trim();
            if (variable.startsWith("!") || local.contains(variable)) {
                continue; // ${!Literal} is written as ${Literal}
            }
            int dot = variable.indexOf('.');
            if (dot > 0 && !PSEUDO_PARAMETERS.contains(variable) && !referable.containsKey(variable)) {
                getAtt(List.of(variable.substring(0, dot), variable.substring(dot + 1)), path + " ${" + variable + "}", holding);
            } else {
                ref(variable, path + " ${" + variable + "}", holding, false);
            }
        }
    }

    private void requireCondition(String target, String path, Set<String> holding) {
        String condition = referable.get(target).condition();
        if (condition != null && !holding.contains(condition)) {
            errors.add(path + ": '" + target + "' exists only when condition " + condition + " holds;"
                    + " refer to it inside Fn::If [" + condition + ", ...] or from a resource with that Condition");
        }
    }

    // ---- property values against the specification -------------------------------------------------

    private void checkObject(Object value, Map<String, ServiceSpec.Property> properties, String path, List<String> out) {
        if (isIntrinsic(value)) {
            checkIntrinsicBranches(value, branch -> checkObject(branch, properties, path, out));
            return;
        }
        if (!(value instanceof Map<?, ?> raw)) {
            out.add(path + ": expected an object with properties " + new TreeSet<>(properties.keySet()) + ", got " + describe(value));
            return;
        }
        Map<String, Object> object = map(raw, path);
        for (Map.Entry<String, Object> entry : object.entrySet()) {
            String name = entry.getKey();
            ServiceSpec.Property property = properties.get(name);
            if (property == null) {
                out.add(path + "." + name + ": no such property; " + suggestion(name, properties.keySet()));
                continue;
            }
            JsonNode type = property.type();
            if (name.equals("Properties") && type.path("type").asText().equals("union") && object.get("Type") instanceof String kind) {
                type = eventPropertiesType(type, kind); // a SAM event source: its Type says which Properties
            }
            checkValue(entry.getValue(), type, path + "." + name, out);
        }
        properties.forEach((name, property) -> {
            if (property.required() && !object.containsKey(name)) {
                out.add(path + ": required property " + name + " is missing");
            }
        });
    }

    private void checkValue(Object value, JsonNode type, String path, List<String> out) {
        if (isIntrinsic(value)) {
            checkIntrinsicBranches(value, branch -> checkValue(branch, type, path, out));
            return;
        }
        String kind = type.path("type").asText();
        switch (kind) {
            case "string", "number", "integer", "boolean", "date-time" -> {
                if (value instanceof Map || value instanceof List) {
                    out.add(path + ": expected a " + kind + ", got " + describe(value));
                }
            }
            case "json" -> { }
            case "tag" -> {
                if (!(value instanceof Map<?, ?> tag) || !tag.keySet().equals(Set.of("Key", "Value"))) {
                    out.add(path + ": expected a tag {Key, Value}, got " + describe(value));
                }
            }
            case "array" -> {
                if (!(value instanceof List<?> list)) {
                    out.add(path + ": expected a list, got " + describe(value));
                } else {
                    for (int i = 0; i < list.size(); i++) {
                        checkValue(list.get(i), type.path("element"), path + "[" + i + "]", out);
                    }
                }
            }
            case "map" -> {
                if (!(value instanceof Map<?, ?> raw)) {
                    out.add(path + ": expected a map, got " + describe(value));
                } else {
                    map(raw, path).forEach((k, v) -> checkValue(v, type.path("element"), path + "." + k, out));
                }
            }
            case "ref" -> checkObject(value, spec.propertyType(type.path("ref").asText()), path, out);
            case "union" -> {
                List<String> closest = null;
                for (JsonNode alternative : type.path("types")) {
                    List<String> trial = new ArrayList<>();
                    checkValue(value, alternative, path, trial);
                    if (trial.isEmpty()) {
                        return;
                    }
                    if (closest == null || trial.size() < closest.size()) {
                        closest = trial;
                    }
                }
                if (closest != null) {
                    out.addAll(closest);
                }
            }
            default -> out.add(path + ": the spec has a type '" + kind + "' this validator does not know");
        }
    }

    /** A SAM event source's Properties: the alternative named after its Type (EventBridgeRule -> EventBridgeRuleEvent). */
    private static JsonNode eventPropertiesType(JsonNode union, String kind) {
        for (JsonNode alternative : union.path("types")) {
            if (alternative.path("ref").asText().endsWith("." + kind + "Event")) {
                return alternative;
            }
        }
        return union;
    }

    private void checkIntrinsicBranches(Object value, java.util.function.Consumer<Object> check) {
        Map<String, Object> function = map(value, "");
        if (function.get("Fn::If") instanceof List<?> branches && branches.size() == 3) {
            for (Object branch : branches.subList(1, 3)) {
                boolean noValue = branch instanceof Map<?, ?> m && "AWS::NoValue".equals(m.get("Ref"));
                if (!noValue) {
                    check.accept(branch);
                }
            }
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------

    private static boolean isFunctionName(String key) {
        return key.equals("Ref") || key.equals("Condition") || key.startsWith("Fn::");
    }

    static boolean isIntrinsic(Object value) {
        return value instanceof Map<?, ?> map && map.size() == 1 && map.keySet().iterator().next() instanceof String key
                && (key.equals("Ref") || key.startsWith("Fn::"));
    }

    private static String suggestion(String name, Set<String> known) {
        String closest = known.stream().min(Comparator.comparingInt(k -> distance(k.toLowerCase(), name.toLowerCase()))).orElse(null);
        String all = "the properties are " + new TreeSet<>(known);
        return closest != null && distance(closest.toLowerCase(), name.toLowerCase()) <= 3 ? "did you mean " + closest + "? " + all : all;
    }

    private static int distance(String a, String b) {
        int[] previous = new int[b.length() + 1];
        int[] current = new int[b.length() + 1];
        for (int j = 0; j <= b.length(); j++) {
            previous[j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            current[0] = i;
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                current[j] = Math.min(Math.min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.length()];
    }

    private static String describe(Object value) {
        if (value instanceof Map) {
            return "an object";
        }
        if (value instanceof List) {
            return "a list";
        }
        return value == null ? "nothing" : "'" + value + "'";
    }

    @SuppressWarnings("unchecked")
    private Map<String, Object> map(Object value, String path) {
        if (value == null) {
            return Map.of();
        }
        if (!(value instanceof Map<?, ?> raw)) {
            errors.add(path + ": expected a mapping, got " + describe(value));
            return Map.of();
        }
        for (Object key : raw.keySet()) {
            if (!(key instanceof String)) {
                errors.add(path + ": key " + key + " is not a string");
                return Map.of();
            }
        }
        return (Map<String, Object>) raw;
    }
}
