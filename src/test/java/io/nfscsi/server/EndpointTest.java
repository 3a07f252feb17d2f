package io.nfscsi.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class EndpointTest {

    @Test
    void parse_unixForms() {
        assertThat(Endpoint.parse("unix:///csi/csi.sock")).isEqualTo(new Endpoint.Unix(Path.of("/csi/csi.sock")));
        assertThat(Endpoint.parse("unix:/csi/csi.sock")).isEqualTo(new Endpoint.Unix(Path.of("/csi/csi.sock")));
    }

    @Test
    void parse_tcpForms() {
        assertThat(Endpoint.parse("tcp://127.0.0.1:10000")).isEqualTo(new Endpoint.Tcp("127.0.0.1", 10000));
        assertThat(Endpoint.parse("tcp://[::1]:0")).isEqualTo(new Endpoint.Tcp("::1", 0));
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "/csi/csi.sock", "unix://relative.sock", "http://x:1", "tcp://host", "tcp://h:99999",
            "tcp://h:port"})
    void parse_malformed_isRejected(String value) {
        assertThatThrownBy(() -> Endpoint.parse(value)).isInstanceOf(IllegalArgumentException.class);
    }
}
