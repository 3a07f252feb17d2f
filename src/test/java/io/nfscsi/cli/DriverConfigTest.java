package io.nfscsi.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.server.Endpoint;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.NullAndEmptySource;
import org.junit.jupiter.params.provider.ValueSource;

class DriverConfigTest {

    private static final Endpoint ENDPOINT = new Endpoint.Unix(Path.of("/csi/csi.sock"));
    private static final Path WORK = Path.of("/var/lib/nfs-csi/mounts");

    private static DriverConfig config(String nodeId, String driverName, Duration mountTimeout, Duration statsTimeout,
                                       Path workingMountDir, Duration shutdownGrace, int verbosity) {
        return new DriverConfig(ENDPOINT, nodeId, driverName, mountTimeout, statsTimeout, workingMountDir,
                shutdownGrace, verbosity, DriverConfig.Provisioning.DEFAULTS);
    }

    private static DriverConfig withDriverName(String name) {
        return config("node-1", name, Duration.ofMinutes(2), Duration.ofSeconds(10), WORK, Duration.ofSeconds(30), 0);
    }

    @Test
    void constructor_defaults_areValid() {
        DriverConfig c = withDriverName("nfs.csi.io");

        assertThat(c.driverName()).isEqualTo("nfs.csi.io");
        assertThat(c.endpoint()).isEqualTo(ENDPOINT);
        assertThat(c.mountTimeout()).isEqualTo(Duration.ofMinutes(2));
    }

    @ParameterizedTest
    @ValueSource(strings = {"a", "1", "nfs.csi.k8s.io", "a_b-c.d", "NFS.Example.COM",
            "abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0"})
    void constructor_validDriverName_isAccepted(String name) {
        assertThat(withDriverName(name).driverName()).isEqualTo(name);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {"abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz01", "-nfs.csi.io",
            "nfs.csi.io-", ".nfs", "nfs.", "nfs/csi", "nfs csi", "nfs.csi.io\n", "é.csi.io", "_nfs"})
    void constructor_badDriverName_isIllegalArgumentNamingFlag(String name) {
        assertThatThrownBy(() -> withDriverName(name))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--drivername");
    }

    @Test
    void constructor_driverNameOf64Characters_isIllegalArgument() {
        assertThatThrownBy(() -> withDriverName("a".repeat(64))).isInstanceOf(IllegalArgumentException.class);
        assertThat(withDriverName("a".repeat(63)).driverName()).hasSize(63);
    }

    @ParameterizedTest
    @NullAndEmptySource
    @ValueSource(strings = {" ", "\t"})
    void constructor_blankNodeId_isIllegalArgumentNamingFlag(String nodeId) {
        assertThatThrownBy(() -> config(nodeId, "nfs.csi.io", Duration.ofMinutes(2), Duration.ofSeconds(10), WORK,
                Duration.ZERO, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--nodeid");
    }

    @Test
    void constructor_nodeIdLength_isLimitedTo256() {
        assertThat(config("n".repeat(256), "nfs.csi.io", Duration.ofMinutes(2), Duration.ofSeconds(10), WORK,
                Duration.ZERO, 0).nodeId()).hasSize(256);
        assertThatThrownBy(() -> config("n".repeat(257), "nfs.csi.io", Duration.ofMinutes(2), Duration.ofSeconds(10),
                WORK, Duration.ZERO, 0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--nodeid");
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 500, 999})
    void constructor_mountTimeoutBelowOneSecond_isIllegalArgumentNamingFlag(long millis) {
        assertThatThrownBy(() -> config("n", "nfs.csi.io", Duration.ofMillis(millis), Duration.ofSeconds(10), WORK,
                Duration.ZERO, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--mount-timeout");
    }

    @Test
    void constructor_mountTimeoutOfOneSecond_isAccepted() {
        assertThat(config("n", "nfs.csi.io", Duration.ofSeconds(1), Duration.ofSeconds(10), WORK, Duration.ZERO, 0)
                .mountTimeout()).isEqualTo(Duration.ofSeconds(1));
    }

    @Test
    void constructor_statsTimeoutBelow100ms_isIllegalArgumentNamingFlag() {
        assertThatThrownBy(() -> config("n", "nfs.csi.io", Duration.ofMinutes(2), Duration.ofMillis(99), WORK,
                Duration.ZERO, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--stats-timeout");
        assertThat(config("n", "nfs.csi.io", Duration.ofMinutes(2), Duration.ofMillis(100), WORK, Duration.ZERO, 0)
                .statsTimeout()).isEqualTo(Duration.ofMillis(100));
    }

    @ParameterizedTest
    @ValueSource(strings = {"mounts", "./mounts", "var/lib/nfs-csi", ""})
    void constructor_relativeWorkingDir_isIllegalArgumentNamingFlag(String dir) {
        assertThatThrownBy(() -> config("n", "nfs.csi.io", Duration.ofMinutes(2), Duration.ofSeconds(10),
                Path.of(dir), Duration.ZERO, 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--working-mount-dir");
    }

    @Test
    void constructor_negativeShutdownGrace_isIllegalArgumentNamingFlag() {
        assertThatThrownBy(() -> config("n", "nfs.csi.io", Duration.ofMinutes(2), Duration.ofSeconds(10), WORK,
                Duration.ofMillis(-1), 0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("--shutdown-grace");
    }

    @ParameterizedTest
    @ValueSource(ints = {-1, 11, Integer.MAX_VALUE, Integer.MIN_VALUE})
    void constructor_verbosityOutOfRange_isIllegalArgumentNamingFlag(int v) {
        assertThatThrownBy(() -> config("n", "nfs.csi.io", Duration.ofMinutes(2), Duration.ofSeconds(10), WORK,
                Duration.ZERO, v)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-v");
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 5, 10})
    void constructor_verbosityInRange_isAccepted(int v) {
        assertThat(config("n", "nfs.csi.io", Duration.ofMinutes(2), Duration.ofSeconds(10), WORK, Duration.ZERO, v)
                .verbosity()).isEqualTo(v);
    }

    @Test
    void constructor_nullEndpoint_isNullPointer() {
        assertThatThrownBy(() -> new DriverConfig(null, "n", "nfs.csi.io", Duration.ofMinutes(2),
                Duration.ofSeconds(10), WORK, Duration.ZERO, 0, DriverConfig.Provisioning.DEFAULTS)).isInstanceOf(NullPointerException.class);
    }

    @Test
    void nodeStateDir_default_isBesideTheUnixSocket() {
        assertThat(withDriverName("nfs.csi.io").nodeStateDir()).isEqualTo(Path.of("/csi/node-state"));
    }

    @Test
    void nodeStateDir_defaultForATcpEndpoint_isUnderVarLib() {
        DriverConfig c = new DriverConfig(new Endpoint.Tcp("127.0.0.1", 10000), "n", "nfs.csi.io",
                Duration.ofMinutes(2), Duration.ofSeconds(10), WORK, Duration.ZERO, 0, DriverConfig.Provisioning.DEFAULTS);
        assertThat(c.nodeStateDir()).isEqualTo(DriverConfig.DEFAULT_NODE_STATE_DIR);
    }

    @Test
    void nodeStateDir_relative_isRejectedNamingTheFlag() {
        assertThatThrownBy(() -> new DriverConfig(ENDPOINT, "n", "nfs.csi.io", Duration.ofMinutes(2),
                Duration.ofSeconds(10), WORK, Duration.ZERO, 0, DriverConfig.Provisioning.DEFAULTS, Path.of("state")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--state-dir");
    }
}
