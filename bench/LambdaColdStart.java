import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import com.amazonaws.services.lambda.runtime.ClientContext;
import com.amazonaws.services.lambda.runtime.CognitoIdentity;
import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.LambdaLogger;
import com.amazonaws.services.lambda.runtime.RequestStreamHandler;

/**
 * One cold start through the Lambda entry, in process, as the Java runtime drives it: construct the image's
 * handler class (Lambda's init phase), then one invocation with the event's bytes (the first request), and
 * print when each ended, in ms after the JVM started, with the answer. bench/cold_start.py compiles and runs
 * it in a fresh JVM per round, with the jar's class path as the Lambda image has it (lib/*).
 *
 *   java -cp bench-classes:target/lib/*:target/gpt2cls-runner.jar LambdaColdStart HANDLER_CLASS EVENT_FILE
 */
public final class LambdaColdStart {

    public static void main(String[] args) throws Exception {
        byte[] event = Files.readAllBytes(Path.of(args[1]));
        RequestStreamHandler handler = (RequestStreamHandler) Class.forName(args[0]).getDeclaredConstructor().newInstance();
        long initEnd = System.currentTimeMillis();
        ByteArrayOutputStream answer = new ByteArrayOutputStream();
        handler.handleRequest(new ByteArrayInputStream(event), answer, new InvocationContext());
        long answered = System.currentTimeMillis();
        long jvmStart = ManagementFactory.getRuntimeMXBean().getStartTime(); // read last: the management classes are not free
        System.out.println("{\"init_ms\": " + (initEnd - jvmStart) + ", \"first_answer_ms\": " + (answered - jvmStart)
                + ", \"answer\": " + new String(answer.toByteArray(), StandardCharsets.UTF_8).trim() + "}");
        System.exit(0); // as the runtime freezes the environment: no waiting for Quarkus's shutdown
    }

    /** What the runtime hands a handler; a 2,048 MB function with 60 s left. */
    private static final class InvocationContext implements Context {
        public String getAwsRequestId() { return "cold-start-1"; }
        public String getLogGroupName() { return "/aws/lambda/gpt2cls-classify"; }
        public String getLogStreamName() { return "cold-start"; }
        public String getFunctionName() { return "gpt2cls-classify"; }
        public String getFunctionVersion() { return "$LATEST"; }
        public String getInvokedFunctionArn() { return "arn:aws:lambda:us-east-1:000000000000:function:gpt2cls-classify"; }
        public CognitoIdentity getIdentity() { return null; }
        public ClientContext getClientContext() { return null; }
        public int getRemainingTimeInMillis() { return 60_000; }
        public int getMemoryLimitInMB() { return 2048; }
        public LambdaLogger getLogger() {
            return new LambdaLogger() {
                public void log(String message) { System.err.println(message); }
                public void log(byte[] message) { System.err.println(new String(message, StandardCharsets.UTF_8)); }
            };
        }
    }
}
