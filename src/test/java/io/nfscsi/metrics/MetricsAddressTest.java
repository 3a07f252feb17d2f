package io.nfscsi.metrics;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MetricsAddressTest {

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "0.0.0.0:29881|0.0.0.0|29881",
        ":29886|''|29886",
        "localhost:9090|localhost|9090",
        "[::1]:9090|::1|9090"})
    void parse_kubernetesStyleAddresses(String text, String host, int port) {
        MetricsAddress a = MetricsAddress.parse(text);
        assertThat(a).isEqualTo(new MetricsAddress(host, port));
        assertThat(MetricsAddress.parse(a.format())).isEqualTo(a);
    }

    @ParameterizedTest
    @ValueSource(strings = {"29881", "host:", "host:http", "::1:9090", "host:65536", "host:-1", ""})
    void parse_malformed_namesTheFlag(String text) {
        assertThatThrownBy(() -> MetricsAddress.parse(text)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--metrics-address");
    }
}
