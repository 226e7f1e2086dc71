package io.gpt2cls.runtime;

import java.time.Duration;
import java.util.logging.Level;

import org.jboss.logmanager.LogContext;
import org.jboss.logmanager.Logger;
import org.jboss.logmanager.formatters.PatternFormatter;
import org.jboss.logmanager.handlers.ConsoleHandler;

import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * A child process for {@link GracefulStopTest}: libtorch work inside a {@link GracefulStop} scope
 * that either stops at the stop request ({@code cooperative}) or never looks at it ({@code stuck}).
 * args: stop deadline in milliseconds, {@code cooperative|stuck}, and {@code notice} to request the
 * stop itself as a spot notice does (else the test sends SIGTERM once it has printed WORKING).
 */
public final class StopDeadlineChild {

    public static void main(String[] args) {
        Logger root = LogContext.getLogContext().getLogger("");
        root.addHandler(new ConsoleHandler(ConsoleHandler.Target.SYSTEM_ERR, new PatternFormatter("%d{HH:mm:ss} %-5p [%c{1.}] %s%e%n")));
        root.setLevel(Level.INFO);
        NativeRuntime.init();
        GracefulStop.setDeadline(Duration.ofMillis(Long.parseLong(args[0])));
        boolean cooperative = args[1].equals("cooperative");
        try (GracefulStop.Scope scope = GracefulStop.enter(); NDManager manager = NDManager.newBaseManager()) {
            System.out.println("WORKING");
            System.out.flush();
            if (args.length > 2 && args[2].equals("notice")) {
                GracefulStop.request("a test's notice");
            }
            while (!cooperative || !GracefulStop.requested()) {
                try (NDManager step = manager.newSubManager()) {
                    step.randomNormal(new Shape(256, 256)).matMul(step.randomNormal(new Shape(256, 256))).sum().getFloat();
                }
            }
        }
        System.out.println("STOPPED IN TIME");
    }
}
