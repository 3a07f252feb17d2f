package io.nfscsi.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class GoDurationTest {

    @ParameterizedTest(name = "{0} = {1}")
    @CsvSource({
            "2m, PT2M", "90s, PT1M30S", "1h30m, PT1H30M", "250ms, PT0.25S", "1.5s, PT1.5S", "0, PT0S",
            "0s, PT0S", "10ns, PT0.00000001S", "7us, PT0.000007S", "7µs, PT0.000007S", "0.5m, PT30S",
            "1h1m1s1ms, PT1H1M1.001S", "2h, PT2H", "' 30s ', PT30S", "1h1h, PT2H", "100ms, PT0.1S"})
    void parse_goDuration_isDuration(String text, Duration expected) {
        assertThat(GoDuration.parse(text)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", " ", "5", "m", "2x", "-1s", "+1s", "1.s", ".5s", "1 s", "s1", "1m2", "2mx",
            "1e3s", "1S", "1M", "1d", "00", "0x", "1,5s", "١s"})
    void parse_notADuration_isIllegalArgument(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(strings = {"9999999999h9999999999h", "9223372036854775807h1h"})
    void parse_overflowingDuration_isIllegalArgument(String text) {
        assertThatThrownBy(() -> GoDuration.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"PT0S, 0", "PT2M, 2m", "PT1H30M, 90m", "PT1M30S, 90s", "PT0.25S, 250ms", "PT1.5S, 1500ms",
            "PT10S, 10s", "PT24H, 1440m"})
    void format_duration_isGoSpelling(Duration d, String expected) {
        assertThat(GoDuration.format(d)).isEqualTo(expected);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 999, 1000, 1001, 59_999, 60_000, 61_000, 90_000, 3_600_000, 5_400_000, 86_400_123L,
            3_000_000_000_000L})
    void format_millisecondDuration_roundTripsThroughParse(long millis) {
        Duration d = Duration.ofMillis(millis);

        assertThat(GoDuration.parse(GoDuration.format(d))).isEqualTo(d);
    }

    @ParameterizedTest
    @ValueSource(strings = {"2m", "90s", "1h30m", "250ms", "1.5s", "0", "10s", "30s", "5m"})
    void parse_format_parse_isStable(String text) {
        Duration d = GoDuration.parse(text);

        assertThat(GoDuration.parse(GoDuration.format(d))).isEqualTo(d);
    }

    @Test
    void format_subMillisecondDuration_roundTrips() {
        Duration d = Duration.ofNanos(500);

        assertThat(GoDuration.format(d)).isNotEqualTo("0m");
        assertThat(GoDuration.parse(GoDuration.format(d))).isEqualTo(d);
    }
}
