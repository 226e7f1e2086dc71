package io.gpt2cls.infra;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.constructor.AbstractConstruct;
import org.yaml.snakeyaml.constructor.SafeConstructor;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import org.yaml.snakeyaml.nodes.Tag;

/**
 * Reads a CloudFormation/SAM template written in YAML into plain maps, lists and scalars, the way
 * CloudFormation itself sees it: each short-form tag becomes its long form ({@code !Ref X} ->
 * {@code {"Ref": "X"}}, {@code !GetAtt A.B} -> {@code {"Fn::GetAtt": ["A", "B"]}}, {@code !Sub s} ->
 * {@code {"Fn::Sub": "s"}}, ...). What CloudFormation refuses is refused here too: duplicate keys and
 * YAML anchors/aliases.
 */
public final class CfnYaml {

    /** Every intrinsic function with a short form; {@code !Ref} and {@code !Condition} keep their names. */
    static final List<String> FUNCTIONS = List.of("Base64", "Cidr", "Equals", "FindInMap", "GetAtt", "GetAZs", "If",
            "ImportValue", "Join", "Not", "And", "Or", "Select", "Split", "Sub", "Transform", "Length", "ToJsonString");

    private CfnYaml() {}

    public static Map<String, Object> load(Path file) throws IOException {
        return parse(Files.readString(file));
    }

    @SuppressWarnings("unchecked")
    public static Map<String, Object> parse(String yaml) {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(0);
        Object document = new Yaml(new CfnConstructor(options)).load(yaml);
        if (!(document instanceof Map)) {
            throw new YAMLException("a template is a YAML mapping at its top level");
        }
        return (Map<String, Object>) document;
    }

    private static final class CfnConstructor extends SafeConstructor {

        CfnConstructor(LoaderOptions options) {
            super(options);
            yamlConstructors.put(new Tag("!Ref"), new Intrinsic("Ref"));
            yamlConstructors.put(new Tag("!Condition"), new Intrinsic("Condition"));
            for (String function : FUNCTIONS) {
                yamlConstructors.put(new Tag("!" + function), new Intrinsic("Fn::" + function));
            }
        }

        @Override
        protected Object constructObject(Node node) {
            if (node.getAnchor() != null) {
                throw new YAMLException("YAML anchors and aliases (&" + node.getAnchor() + ") are not allowed in"
                        + " CloudFormation templates (line " + (node.getStartMark().getLine() + 1) + ")");
            }
            return super.constructObject(node);
        }

        @Override
        protected Map<Object, Object> createDefaultMap(int initSize) {
            return new LinkedHashMap<>();
        }

        private final class Intrinsic extends AbstractConstruct {
            private final String name;

            Intrinsic(String name) {
                this.name = name;
            }

            @Override
            public Object construct(Node node) {
                Object value;
                if (node instanceof ScalarNode scalar) {
                    String text = scalar.getValue();
                    // !GetAtt Resource.Attribute (the attribute may itself contain dots)
                    value = name.equals("Fn::GetAtt") ? List.of(text.substring(0, Math.max(0, text.indexOf('.'))),
                            text.substring(text.indexOf('.') + 1)) : text;
                } else if (node instanceof SequenceNode sequence) {
                    List<Object> items = new ArrayList<>();
                    for (Node item : sequence.getValue()) {
                        items.add(constructObject(item));
                    }
                    value = items;
                } else {
                    Map<Object, Object> map = new LinkedHashMap<>();
                    for (NodeTuple tuple : ((MappingNode) node).getValue()) {
                        map.put(constructObject(tuple.getKeyNode()), constructObject(tuple.getValueNode()));
                    }
                    value = map;
                }
                Map<String, Object> function = new LinkedHashMap<>();
                function.put(name, value);
                return function;
            }
        }
    }
}
