package io.gpt2cls.infra;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.Method;
import java.lang.reflect.Field;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;

import io.gpt2cls.function.AppConfig;
import io.quarkus.funqy.Funq;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;

/**
 * What the application reads, from the code itself, so deployment files can be checked against it:
 * the environment variables of {@link AppConfig}, the names of the {@code @Funq} functions, and the
 * commands of the jar's entry point.
 */
public final class AppSettings {

    private AppSettings() {}

    /** GPT2CLS_CLASSIFY_MODEL etc.: each {@code gpt2cls.*} setting as its environment variable. */
    public static Set<String> environmentVariables() {
        Set<String> names = new TreeSet<>();
        collect(AppConfig.class, "gpt2cls", names);
        return names;
    }

    private static void collect(Class<?> mapping, String prefix, Set<String> into) {
        for (Method method : mapping.getDeclaredMethods()) {
            if (method.getParameterCount() > 0 || method.isDefault() || java.lang.reflect.Modifier.isStatic(method.getModifiers())) {
                continue;
            }
            WithName renamed = method.getAnnotation(WithName.class);
            String name = prefix + "." + (renamed != null ? renamed.value() : kebab(method.getName()));
            Class<?> type = method.getReturnType();
            if (type.isInterface() && type.getName().startsWith(AppConfig.class.getName() + "$")) { // a group: store(), classify()
                collect(type, name, into);
            } else {
                into.add(name.toUpperCase(java.util.Locale.ROOT).replaceAll("[^A-Z0-9]", "_"));
            }
        }
    }

    private static String kebab(String camel) {
        return camel.replaceAll("([a-z0-9])([A-Z])", "$1-$2").toLowerCase(java.util.Locale.ROOT);
    }

    /** A setting's default, e.g. {@code defaultOf(AppConfig.Classify.class, "maxTexts")} = "64". */
    public static String defaultOf(Class<?> mapping, String method) {
        try {
            return mapping.getMethod(method).getAnnotation(WithDefault.class).value();
        } catch (NoSuchMethodException e) {
            throw new AssertionError(mapping.getSimpleName() + " has no setting " + method, e);
        }
    }

    /** The functions QUARKUS_FUNQY_EXPORT may name: the @Funq methods of src/main/java/io/gpt2cls/function/*Function.java. */
    public static Set<String> functions() {
        Set<String> names = new TreeSet<>();
        try (Stream<Path> files = Files.list(Path.of("src/main/java/io/gpt2cls/function"))) {
            for (Path file : files.filter(f -> f.getFileName().toString().endsWith("Function.java")).toList()) {
                String simple = file.getFileName().toString().replace(".java", "");
                for (Method method : Class.forName("io.gpt2cls.function." + simple).getDeclaredMethods()) {
                    if (method.isAnnotationPresent(Funq.class)) {
                        String name = method.getAnnotation(Funq.class).value();
                        names.add(name.isEmpty() ? method.getName() : name);
                    }
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (ClassNotFoundException e) {
            throw new AssertionError(e);
        }
        return names;
    }

    /** The commands of the jar's entry point (io.gpt2cls.cli.Main), with their usage lines. */
    @SuppressWarnings("unchecked")
    public static Map<String, String> commands() {
        try {
            Field field = Class.forName("io.gpt2cls.cli.Main").getDeclaredField("COMMANDS");
            field.setAccessible(true);
            return (Map<String, String>) field.get(null);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("io.gpt2cls.cli.Main.COMMANDS is where the jar's commands are listed", e);
        }
    }
}
