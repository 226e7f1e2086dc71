package io.gpt2cls.runtime;

/**
 * JVM-wide settings made before Quarkus starts, by each entry: the jar's {@code Main} and the Lambda
 * handler. A setting the user gave ({@code -D} or {@code JAVA_TOOL_OPTIONS}) is kept.
 */
public final class StartupSettings {

    /** Joda-Time's time-zone provider: see {@link #apply()}. */
    static final String JODA_ZONE_PROVIDER = "org.joda.time.DateTimeZone.Provider";
    static final String UTC_ONLY = "org.joda.time.tz.UTCProvider";

    private StartupSettings() {
    }

    /**
     * Joda-Time with UTC and fixed offsets only. Quarkus's Lambda support registers Jackson's Joda module
     * for the AWS event classes while it starts, and that loads Joda's whole time-zone database from its
     * jar: 35-110 ms of a cold start, on the critical path (BENCHMARKS.md, issue 18). Nothing here reads a
     * Joda zone by name: requests are parsed by {@code RequestParser} (the Lambda event handling that would
     * use the module is off in application.properties), and AWS event times are UTC.
     */
    public static void apply() {
        if (System.getProperty(JODA_ZONE_PROVIDER) == null) {
            System.setProperty(JODA_ZONE_PROVIDER, UTC_ONLY);
        }
    }
}
