package io.gpt2cls.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The Mermaid diagram in infra/README.md and the template stay in step: a capitalised node name is a
 * logical ID of the template (or a resource SAM generates from one, like ClassifyFunctionUrl), and every
 * main resource is drawn. Lower-case names are parts of the picture that are not resources (the bucket's
 * prefixes, users, the Hub).
 */
class ArchitectureDiagramTest {

    static final Set<String> MAIN_TYPES = Set.of("AWS::S3::Bucket", "AWS::Serverless::Function", "AWS::Serverless::StateMachine",
            "AWS::Batch::ComputeEnvironment", "AWS::Batch::JobQueue", "AWS::Batch::JobDefinition", "AWS::Events::Rule",
            "AWS::ECR::Repository");
    static final Set<String> KEYWORDS = Set.of("flowchart", "graph", "subgraph", "end", "direction", "LR", "RL", "TB", "TD", "BT");

    /** The node (and subgraph) names of the README's mermaid block. */
    static Set<String> nodes(String readme) {
        Matcher block = Pattern.compile("```mermaid\\n(.*?)```", Pattern.DOTALL).matcher(readme);
        assertTrue(block.find(), "infra/README.md has no mermaid diagram");
        Set<String> nodes = new TreeSet<>();
        for (String line : block.group(1).split("\n")) {
            String text = line.replaceAll("%%.*", "").replaceAll("\"[^\"]*\"", " ").replaceAll("\\|[^|]*\\|", " ")
                    .replaceAll("--\\s+[^>]*?\\s+-->", " --> ").replaceAll("-\\.\\s+[^>]*?\\s+\\.->", " -.-> "); // A -- label --> B
            String before;
            do { // labels: [..], (..), {..}, nested as in ([..]), [(..)], {{..}}
                before = text;
                text = text.replaceAll("\\[[^\\[\\]]*]|\\([^()]*\\)|\\{[^{}]*}", " ");
            } while (!text.equals(before));
            text = text.replaceAll("-+\\.?-*>?|=+>|\\.-+>?|-\\.-", " "); // edges: -->, -.->, -.-, ==>, ---
            for (String token : text.split("[^A-Za-z0-9_]+")) {
                if (!token.isEmpty() && !KEYWORDS.contains(token) && Character.isLetter(token.charAt(0))) {
                    nodes.add(token);
                }
            }
        }
        return nodes;
    }

    @Test
    void theDiagramDrawsTheTemplatesResourcesByTheirLogicalIds() throws IOException {
        Set<String> nodes = nodes(Files.readString(Path.of("infra/README.md")));
        Template template = Template.load();
        Set<String> resources = new TreeSet<>(template.section("Resources").keySet());
        for (String function : template.resourcesOfType("AWS::Serverless::Function")) {
            if (template.properties(function).containsKey("FunctionUrlConfig")) {
                resources.add(function + "Url");
            }
        }
        Set<String> unknown = new TreeSet<>();
        nodes.stream().filter(n -> Character.isUpperCase(n.charAt(0)) && !resources.contains(n)).forEach(unknown::add);
        assertEquals(Set.of(), unknown, "capitalised diagram nodes that are no resource of the template");

        Set<String> undrawn = new TreeSet<>();
        template.section("Resources").forEach((id, resource) -> {
            if (MAIN_TYPES.contains(((Map<?, ?>) resource).get("Type")) && !nodes.contains(id)) {
                undrawn.add(id);
            }
        });
        assertEquals(Set.of(), undrawn, "main resources missing from the diagram");
    }

    @Test
    void nodeNamesAreReadFromEdgesShapesAndSubgraphs() {
        String diagram = "```mermaid\nflowchart LR\n  subgraph DataBucket [DataBucket: bucket]\n    raw[raw/]\n  end\n"
                + "  raw -- \"Object Created: raw/*\" --> PrepareFunction[PrepareFunction: Lambda]\n"
                + "  Rule{{Rule: x}} -- SubmitJob --> Queue[(Queue)] & Other([o]) -. pull .-> Last\n```\n";
        assertEquals(new TreeSet<>(Set.of("DataBucket", "raw", "PrepareFunction", "Rule", "Queue", "Other", "Last")), nodes(diagram));
    }
}
