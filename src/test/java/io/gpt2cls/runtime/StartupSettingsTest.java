package io.gpt2cls.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.joda.time.DateTimeZone;
import org.joda.time.tz.UTCProvider;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class StartupSettingsTest {

    private final String before = System.getProperty(StartupSettings.JODA_ZONE_PROVIDER);

    @AfterEach
    void restore() {
        if (before == null) {
            System.clearProperty(StartupSettings.JODA_ZONE_PROVIDER);
        } else {
            System.setProperty(StartupSettings.JODA_ZONE_PROVIDER, before);
        }
    }

    @Test
    void jodaGetsTheUtcOnlyProviderUnlessTheUserNamedOne() {
        System.clearProperty(StartupSettings.JODA_ZONE_PROVIDER);
        StartupSettings.apply();
        assertEquals(UTCProvider.class.getName(), System.getProperty(StartupSettings.JODA_ZONE_PROVIDER));

        System.setProperty(StartupSettings.JODA_ZONE_PROVIDER, "org.joda.time.tz.ZoneInfoProvider");
        StartupSettings.apply();
        assertEquals("org.joda.time.tz.ZoneInfoProvider", System.getProperty(StartupSettings.JODA_ZONE_PROVIDER), "the user's choice is kept");
    }

    @Test
    void theUtcOnlyProviderStillGivesWhatAwsEventTimesNeed() {
        UTCProvider provider = new UTCProvider();
        assertEquals(DateTimeZone.UTC, provider.getZone("UTC"));
        assertEquals(7_200_000, DateTimeZone.forOffsetHours(2).getOffset(0L), "fixed offsets need no zone database");
    }
}
