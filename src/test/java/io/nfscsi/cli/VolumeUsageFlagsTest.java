package io.nfscsi.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.ResourceLock;
import org.junit.jupiter.api.parallel.Resources;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@code --volume-usage} and {@code --volume-usage-ttl}: parsed into the config, malformed ones exit 2 naming the flag. */
@ResourceLock(Resources.SYSTEM_OUT)
@ResourceLock(Resources.SYSTEM_ERR)
@Timeout(30)
class VolumeUsageFlagsTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalErr;

    @BeforeEach
    void captureErr() {
        originalErr = System.err;
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreErr() {
        System.setErr(originalErr);
    }

    private String[] args(String... flags) {
        List<String> all = new ArrayList<>(List.of(
                "--endpoint", "unix://" + dir.resolve("csi.sock"),
                "--nodeid", "node-1",
                "--working-mount-dir", dir.resolve("mounts").toString()));
        all.addAll(List.of(flags));
        return all.toArray(String[]::new);
    }

    private DriverConfig config(String... flags) throws Exception {
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(args(flags));
        return main.config();
    }

    @Test
    void config_noFlags_reportsTheExport_withAFiveMinuteTtl() throws Exception {
        DriverConfig.VolumeUsage usage = config().volumeUsage();

        assertThat(usage.mode()).isEqualTo(DriverConfig.VolumeUsage.Mode.EXPORT);
        assertThat(usage.ttl()).isEqualTo(Duration.ofMinutes(5));
    }

    @Test
    void config_walkAndTtl_areKept() throws Exception {
        DriverConfig.VolumeUsage usage = config("--volume-usage=walk", "--volume-usage-ttl", "90s").volumeUsage();

        assertThat(usage.mode()).isEqualTo(DriverConfig.VolumeUsage.Mode.WALK);
        assertThat(usage.ttl()).isEqualTo(Duration.ofSeconds(90));
    }

    @Test
    void config_ttlBounds_areAccepted() throws Exception {
        assertThat(config("--volume-usage-ttl", "10s").volumeUsage().ttl()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config("--volume-usage-ttl", "24h").volumeUsage().ttl()).isEqualTo(Duration.ofHours(24));
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--volume-usage, du, --volume-usage",
            "--volume-usage, WALK, --volume-usage",
            "--volume-usage, '', --volume-usage",
            "--volume-usage-ttl, 9s, --volume-usage-ttl",
            "--volume-usage-ttl, 25h, --volume-usage-ttl",
            "--volume-usage-ttl, -1m, --volume-usage-ttl",
            "--volume-usage-ttl, often, --volume-usage-ttl"})
    void run_malformedValue_returns2WithOneLineNamingTheFlag(String flag, String value, String named) {
        int code = Main.run(args(flag, value));

        assertThat(code).isEqualTo(2);
        assertThat(err.toString(StandardCharsets.UTF_8).lines().toList()).singleElement().asString()
                .contains(named);
    }

    @Test
    void volumeUsage_parse_acceptsOnlyTheTwoLowerCaseNames() {
        assertThat(DriverConfig.VolumeUsage.Mode.parse("export")).isEqualTo(DriverConfig.VolumeUsage.Mode.EXPORT);
        assertThat(DriverConfig.VolumeUsage.Mode.parse("walk")).isEqualTo(DriverConfig.VolumeUsage.Mode.WALK);
        assertThatThrownBy(() -> DriverConfig.VolumeUsage.Mode.parse("Walk"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--volume-usage");
    }
}
