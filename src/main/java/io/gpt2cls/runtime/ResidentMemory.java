package io.gpt2cls.runtime;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The process's resident memory (RSS): Java heap, libtorch's tensors and everything else, as the
 * kernel (and a container's memory limit) counts it. Linux only; elsewhere unknown.
 */
public final class ResidentMemory {

    private static final Path STATUS = Path.of("/proc/self/status");

    private ResidentMemory() {}

    /** VmRSS in MiB, or null where /proc is not there. */
    public static Long megabytes() {
        return statusMegabytes("VmRSS");
    }

    /** VmHWM, the peak RSS so far, in MiB, or null where /proc is not there. */
    public static Long peakMegabytes() {
        return statusMegabytes("VmHWM");
    }

    private static Long statusMegabytes(String field) {
        try {
            for (String line : Files.readAllLines(STATUS)) {
                if (line.startsWith(field + ":")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
                }
            }
        } catch (IOException | NumberFormatException e) {
            // not Linux, or an unexpected format: unknown
        }
        return null;
    }
}
