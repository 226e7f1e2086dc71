package io.gpt2cls.infra;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.jar.JarFile;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import com.amazonaws.services.lambda.runtime.Context;

import io.gpt2cls.cli.Main;
import io.gpt2cls.function.ClassifyRequest;
import io.gpt2cls.function.LambdaHandler;
import io.gpt2cls.function.RequestParser;
import io.gpt2cls.model.ModelPreset;
import io.quarkus.funqy.lambda.FunqyStreamHandler;

/**
 * The Dockerfiles against the build and the code, without Docker: what they COPY is what
 * `./mvnw package` writes (and .dockerignore lets through), the handler, main class, commands and
 * environment variables they name exist, and the GPU image's libtorch matches the pom and DJL's JNI
 * library. infra/scripts/replay-lambda-image.sh runs the Lambda image's build steps for real.
 */
class DockerfilesTest {

    static final Path LAMBDA = Path.of("src/main/docker/Dockerfile.lambda");
    static final Path GPU = Path.of("src/main/docker/Dockerfile.gpu");
    /** Environment variables DJL reads, with the class that reads each (checked in DJL's own bytecode). */
    static final Map<String, String> DJL_VARIABLES = Map.of(
            "ENGINE_CACHE_DIR", "ai/djl/util/Utils.class",
            "DJL_CACHE_DIR", "ai/djl/util/Utils.class",
            "DJL_OFFLINE", "ai/djl/util/Utils.class",
            "PYTORCH_LIBRARY_PATH", "ai/djl/pytorch/jni/LibUtils.class",
            "PYTORCH_VERSION", "ai/djl/pytorch/jni/LibUtils.class",
            "PYTORCH_FLAVOR", "ai/djl/pytorch/jni/LibUtils.class");

    record Instruction(String name, String args) {}

    /** A Dockerfile's instructions, continuation lines joined, comments dropped. */
    static List<Instruction> instructions(Path dockerfile) throws IOException {
        List<Instruction> instructions = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        for (String line : Files.readAllLines(dockerfile)) {
            if (line.strip().startsWith("#") || line.isBlank()) {
                continue;
            }
            String stripped = line.strip();
            boolean continues = stripped.endsWith("\\");
            current.append(continues ? stripped.substring(0, stripped.length() - 1) : stripped).append(' ');
            if (!continues) {
                String text = current.toString().strip();
                int space = text.indexOf(' ');
                instructions.add(new Instruction(text.substring(0, space), text.substring(space + 1).strip()));
                current.setLength(0);
            }
        }
        return instructions;
    }

    static Map<String, String> env(Path dockerfile) throws IOException {
        Map<String, String> env = new LinkedHashMap<>();
        for (Instruction i : instructions(dockerfile)) {
            if (i.name().equals("ENV")) {
                for (String pair : i.args().split("\\s+")) {
                    env.put(pair.substring(0, pair.indexOf('=')), pair.substring(pair.indexOf('=') + 1));
                }
            }
        }
        return env;
    }

    /** The COPY sources from the build context (not from another stage). */
    static List<String> copySources(Path dockerfile) throws IOException {
        List<String> sources = new ArrayList<>();
        for (Instruction i : instructions(dockerfile)) {
            if (i.name().equals("COPY") && !i.args().startsWith("--from")) {
                sources.add(i.args().split("\\s+")[0]);
            }
        }
        return sources;
    }

    static String runnerJar() throws IOException {
        Properties properties = new Properties();
        try (InputStream in = Files.newInputStream(Path.of("src/main/resources/application.properties"))) {
            properties.load(in);
        }
        return "target/" + properties.getProperty("quarkus.package.output-name") + "-runner.jar";
    }

    /** .dockerignore as Docker applies it: the last pattern matching a path or one of its parent directories decides. */
    static boolean sentToDocker(String path) throws IOException {
        boolean included = true;
        for (String line : Files.readAllLines(Path.of(".dockerignore"))) {
            String pattern = line.strip();
            if (pattern.isEmpty() || pattern.startsWith("#")) {
                continue;
            }
            boolean negated = pattern.startsWith("!");
            String glob = (negated ? pattern.substring(1) : pattern).replaceAll("/+$", "");
            for (Path p = Path.of(path); p != null; p = p.getParent()) {
                if (p.getFileSystem().getPathMatcher("glob:" + glob).matches(p)) {
                    included = negated;
                    break;
                }
            }
        }
        return included;
    }

    @Test
    void bothImagesCopyWhatThePackageBuildWritesAndDockerignoreLetsThrough() throws IOException {
        Set<String> built = Set.of(runnerJar(), "target/lib/");
        boolean packaged = Files.isRegularFile(Path.of(runnerJar()));
        for (Path dockerfile : List.of(LAMBDA, GPU)) {
            List<String> sources = copySources(dockerfile);
            assertEquals(built, Set.copyOf(sources), dockerfile + " copies the legacy-jar layout");
            for (String source : sources) {
                assertTrue(sentToDocker(source.replaceAll("/$", "")), source + " is excluded by .dockerignore");
                assertTrue(sentToDocker(source.endsWith("/") ? source + "some.jar" : source), source + " contents are excluded by .dockerignore");
                if (packaged) { // after ./mvnw package: the files are really there
                    assertTrue(Files.exists(Path.of(source)), source + " does not exist after the package build");
                }
            }
        }
        assertFalse(sentToDocker("src/main/java/io/gpt2cls/cli/Main.java"), "the build context should hold only the jars");
        assertFalse(sentToDocker("runs/pipeline/model/model.safetensors"));
    }

    @Test
    void theLambdaHandlerIsFunqysStreamHandlerStartedInTheInit() throws Exception {
        Instruction cmd = instructions(LAMBDA).stream().filter(i -> i.name().equals("CMD")).findFirst().orElseThrow();
        Matcher handler = Pattern.compile("\\[\"([\\w.]+)::(\\w+)\"]").matcher(cmd.args());
        assertTrue(handler.matches(), cmd.args());
        assertEquals(LambdaHandler.class.getName(), handler.group(1));
        assertTrue(FunqyStreamHandler.class.isAssignableFrom(LambdaHandler.class));
        Method method = Class.forName(handler.group(1)).getMethod(handler.group(2), InputStream.class, OutputStream.class, Context.class);
        assertNotNull(method);
        assertTrue(instructions(LAMBDA).get(0).args().startsWith("public.ecr.aws/lambda/java:"));
        // image functions take the handler from the image; the template must not name another
        for (String function : Template.load().resourcesOfType("AWS::Serverless::Function")) {
            assertFalse(Template.load().properties(function).containsKey("Handler"), function);
            assertFalse(Template.load().properties(function).containsKey("ImageConfig"), function);
        }
    }

    @Test
    void theBuildTimeWarmUpUsesCommandsTheJarHas() throws IOException {
        String run = instructions(LAMBDA).stream().filter(i -> i.name().equals("RUN")).findFirst().orElseThrow().args();
        Matcher main = Pattern.compile("java -cp \"\\$\\{LAMBDA_TASK_ROOT}/lib/\\*\" ([\\w.]+) (\\S+)").matcher(run);
        List<String> commands = new ArrayList<>();
        while (main.find()) {
            // the @QuarkusMain class, which has its own main(): Quarkus then generates no GeneratedMain
            assertEquals(Main.class.getName(), main.group(1));
            commands.add(main.group(2));
        }
        assertEquals(List.of("init-model", "classify"), commands);
        Map<String, String> usage = AppSettings.commands();
        for (String option : List.of("--preset", "--labels", "--out")) {
            assertTrue(usage.get("init-model").contains(option), "init-model has no option " + option);
        }
        assertTrue(run.contains("--preset tiny"));
        ModelPreset.byId("tiny");
        Matcher request = Pattern.compile("classify '(\\{.*?})'").matcher(run);
        assertTrue(request.find());
        assertNotNull(RequestParser.parse(request.group(1), ClassifyRequest.class).text);
        assertTrue(run.contains("GPT2CLS_CLASSIFY_MODEL=/tmp/warm-up"));
        assertTrue(AppSettings.environmentVariables().contains("GPT2CLS_CLASSIFY_MODEL"));
        Path jar = Path.of(runnerJar());
        if (Files.isRegularFile(jar)) {
            try (JarFile runner = new JarFile(jar.toFile())) {
                assertEquals(Main.class.getName(), runner.getManifest().getMainAttributes().getValue("Main-Class"));
            }
        }
    }

    @Test
    void theNativeLibrariesAreUnpackedAtBuildTimeIntoAReadOnlyReadableDirectory() throws IOException {
        Map<String, String> env = env(LAMBDA);
        String engine = env.get("ENGINE_CACHE_DIR");
        assertFalse(engine.startsWith("/tmp"), "the unpacked libraries belong to the image, not to /tmp");
        assertTrue(env.get("DJL_CACHE_DIR").startsWith("/tmp/"), "/tmp is Lambda's only writable directory");
        assertEquals("true", env.get("DJL_OFFLINE"));
        String run = instructions(LAMBDA).stream().filter(i -> i.name().equals("RUN")).findFirst().orElseThrow().args();
        assertTrue(run.contains("chmod -R a+rX ${ENGINE_CACHE_DIR}"), "DJL creates its directories mode 700");
        assertTrue(run.contains("${ENGINE_CACHE_DIR}/pytorch/*/libtorch_cpu.so") && run.contains("${ENGINE_CACHE_DIR}/tokenizers/*/libtokenizers.so"));
    }

    @Test
    void everyVariableTheImagesSetIsOneTheCodeReads() throws IOException {
        for (Path dockerfile : List.of(LAMBDA, GPU)) {
            for (String name : env(dockerfile).keySet()) {
                if (name.startsWith("GPT2CLS_")) {
                    assertTrue(AppSettings.environmentVariables().contains(name), dockerfile + ": " + name + " is no AppConfig setting");
                } else if (DJL_VARIABLES.containsKey(name)) {
                    assertTrue(readsVariable(DJL_VARIABLES.get(name), name), name + " is not read by DJL's " + DJL_VARIABLES.get(name));
                } else {
                    assertTrue(List.of("JAVA_HOME", "PATH", "JAVA_TOOL_OPTIONS").contains(name), dockerfile + ": what reads " + name + "?");
                }
            }
        }
        assertEquals("finetune", env(GPU).get("GPT2CLS_JOB"));
        assertTrue(AppSettings.commands().containsKey("finetune") && AppSettings.functions().contains("finetune"));
    }

    private static boolean readsVariable(String classFile, String name) throws IOException {
        try (InputStream in = DockerfilesTest.class.getClassLoader().getResourceAsStream(classFile)) {
            assertNotNull(in, classFile + " is not on the classpath");
            return new String(in.readAllBytes(), StandardCharsets.ISO_8859_1).contains(name);
        }
    }

    @Test
    void theGpuImageBringsTheLibtorchThatDjlsJniLibraryIsBuiltFor() throws IOException {
        Map<String, String> env = env(GPU);
        String pom = Files.readString(Path.of("pom.xml"));
        Matcher version = Pattern.compile("<pytorch.version>([^<]+)</pytorch.version>").matcher(pom);
        assertTrue(version.find());
        assertEquals(version.group(1), env.get("PYTORCH_VERSION"));
        String flavor = env.get("PYTORCH_FLAVOR");
        assertEquals("cu128", flavor);
        String base = instructions(GPU).stream().filter(i -> i.name().equals("FROM")).reduce((a, b) -> b).orElseThrow().args();
        assertEquals("pytorch/pytorch:" + version.group(1) + "-cuda12.8-cudnn9-runtime", base);
        assertNotNull(getClass().getClassLoader().getResource("jnilib/linux-x86_64/" + flavor + "/libdjl_torch.so"),
                "pytorch-jni has no " + flavor + " JNI library");
        assertTrue(env.get("PYTORCH_LIBRARY_PATH").endsWith("/torch/lib"));

        // the CPU libtorch jar never reaches the GPU image, whichever build made target/lib
        String prune = instructions(GPU).stream().filter(i -> i.name().equals("RUN") && i.args().startsWith("rm ")).findFirst().orElseThrow().args();
        String glob = prune.substring(prune.lastIndexOf("/") + 1);
        String cpuJar = "ai.djl.pytorch.pytorch-native-cpu-" + version.group(1) + "-linux-x86_64.jar"; // groupId.artifactId-version-classifier
        assertTrue(Path.of(cpuJar).getFileSystem().getPathMatcher("glob:" + glob).matches(Path.of(cpuJar)), glob);
        if (Files.isDirectory(Path.of("target/lib"))) { // after a CPU ./mvnw package: the real file name
            try (var files = Files.list(Path.of("target/lib"))) {
                files.map(f -> f.getFileName().toString()).filter(n -> n.contains("pytorch-native-cpu"))
                        .forEach(n -> assertTrue(Path.of(n).getFileSystem().getPathMatcher("glob:" + glob).matches(Path.of(n)), n));
            }
        }
        String entry = instructions(GPU).stream().filter(i -> i.name().equals("ENTRYPOINT")).findFirst().orElseThrow().args();
        assertEquals("[\"java\", \"-jar\", \"/app/gpt2cls-runner.jar\"]", entry);
    }

    @Test
    void samBuildsTheFunctionImageFromTheRepositoryRoot() {
        Template template = Template.load();
        for (String function : template.resourcesOfType("AWS::Serverless::Function")) {
            @SuppressWarnings("unchecked")
            Map<String, Object> metadata = (Map<String, Object>) template.resource(function).get("Metadata");
            Path context = Template.FILE.getParent().resolve((String) metadata.get("DockerContext")).normalize();
            assertEquals(Path.of(""), context, function + ": the Docker context is the repository root (DockerContext is relative to infra/)");
            assertTrue(Files.isRegularFile(context.resolve((String) metadata.get("Dockerfile"))), function);
            assertEquals(LAMBDA, Path.of((String) metadata.get("Dockerfile")));
            assertTrue(Files.isRegularFile(context.resolve(".dockerignore")));
        }
    }
}
