package io.nfscsi.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
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
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Main.run with flags that fail before the server starts (a valid command line would serve until SIGTERM). Every
 * case passes a socket and working directory below a temporary directory, so that even a wrongly accepted command
 * line touches nothing outside it.
 */
@ResourceLock(Resources.SYSTEM_OUT)
@ResourceLock(Resources.SYSTEM_ERR)
@Timeout(30)
class MainTest {

    @TempDir
    Path dir;

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final ByteArrayOutputStream err = new ByteArrayOutputStream();
    private PrintStream originalOut;
    private PrintStream originalErr;

    @BeforeEach
    void captureOutput() {
        originalOut = System.out;
        originalErr = System.err;
        System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    }

    @AfterEach
    void restoreOutput() {
        System.setOut(originalOut);
        System.setErr(originalErr);
    }

    private String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    private String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    /** Safe defaults for the flags a case does not test, then the case's own flags (picocli: last one wins). */
    private String[] args(String... flags) {
        List<String> all = new ArrayList<>(List.of(
                "--endpoint", "unix://" + dir.resolve("csi.sock"),
                "--nodeid", "node-1",
                "--working-mount-dir", dir.resolve("mounts").toString()));
        all.addAll(List.of(flags));
        return all.toArray(String[]::new);
    }

    @Test
    void run_unknownFlag_returns2AndPrintsExactlyOneLine() {
        int code = Main.run(args("--bogus"));

        assertThat(code).isEqualTo(2);
        assertThat(err().lines().toList()).singleElement().asString().contains("--bogus");
        assertThat(out()).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"--mount-timeout", "--stats-timeout", "--shutdown-grace", "--volume-stats-cache-ttl"})
    void run_badDuration_returns2NamingFlag(String flag) {
        int code = Main.run(args(flag, "soon"));

        assertThat(code).isEqualTo(2);
        assertThat(err().lines().toList()).singleElement().asString().contains(flag);
    }

    @Test
    void run_flagWithoutValue_returns2() {
        int code = Main.run(args("--mount-timeout"));

        assertThat(code).isEqualTo(2);
        assertThat(err().lines().toList()).singleElement().asString().contains("--mount-timeout");
    }

    @ParameterizedTest
    @ValueSource(strings = {"29881", "host:", "::1:29881", "host:70000"})
    void run_badMetricsAddress_returns2NamingFlag(String address) {
        int code = Main.run(args("--metrics-address", address));

        assertThat(code).isEqualTo(2);
        assertThat(err().lines().toList()).singleElement().asString().contains("--metrics-address");
    }

    @Test
    void run_nonNumericVerbosity_returns2() {
        assertThat(Main.run(args("-v", "loud"))).isEqualTo(2);
        assertThat(err()).isNotEmpty();
    }

    @Test
    void run_overflowingDuration_returns2() {
        assertThat(Main.run(args("--mount-timeout", "9999999999h9999999999h"))).isEqualTo(2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"http://x", "tcp://no-port", "tcp://host:99999", "unix://relative.sock", "csi.sock"})
    void run_badEndpoint_returns2NamingEndpoint(String endpoint) {
        int code = Main.run(args("--endpoint", endpoint));

        assertThat(code).isEqualTo(2);
        assertThat(err().lines().toList()).singleElement().asString().contains("endpoint");
    }

    @ParameterizedTest(name = "{0} {1}")
    @CsvSource({
            "--mount-timeout, 500ms, --mount-timeout",
            "--stats-timeout, 50ms, --stats-timeout",
            "--volume-stats-cache-ttl, 11m, --volume-stats-cache-ttl",
            "--volume-stats-cache-ttl, -1s, --volume-stats-cache-ttl",
            "--working-mount-dir, relative/dir, --working-mount-dir",
            "--drivername, nfs/csi, --drivername",
            "--nodeid, ' ', --nodeid",
            "-v, 11, -v",
            "--v, -1, -v",
            "--share, nfs.example.com, --share",
            "--share, nfs.example.com:exports, --share",
            "--share, 'nfs.example.com:/exports,bad option', --share",
            "--compression-threads, 0, --compression-threads",
            "--compression-threads, 5, --compression-threads",
            "--compression-threads, many, --compression-threads",
            "--inline-allowed-shares, nfs.example.com, --inline-allowed-shares",
            "--inline-allowed-shares, nfs.example.com:exports, --inline-allowed-shares",
            "--inline-allowed-shares, nfs.example.com:/a/../b, --inline-allowed-shares",
            "--inline-allowed-shares, nfs.example.com:/a/**/b, --inline-allowed-shares",
            "--inline-allowed-shares, nfs*.example.com:/a, --inline-allowed-shares",
            "--inline-allowed-shares, 'nfs.example.com:/a,:/b', --inline-allowed-shares",
            "--publish-record-lookup, maybe, --publish-record-lookup"})
    void run_valueRejectedByConfig_returns2NamingFlag(String flag, String value, String named) {
        int code = Main.run(args(flag, value));

        assertThat(code).isEqualTo(2);
        assertThat(err().lines().toList()).singleElement().asString().contains(named);
    }

    @Test
    void config_repeatedShareFlags_areAllKept_withTheirMountOptions() throws Exception {
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(args("--share", "nfs.example.com:/a",
                "--share=nfs.example.com:/b,nfsvers=4.1,hard"));
        assertThat(main.config().provisioning().shares())
                .extracting(io.nfscsi.controller.ControllerSettings.Share::format)
                .containsExactly("nfs.example.com:/a", "nfs.example.com:/b,nfsvers=4.1,hard");
    }

    @Test
    void config_noCompressionThreads_isTheContainersCpusAtMostFour() throws Exception {
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(args());

        int cpus = io.nfscsi.concurrent.ContainerCpus.available();
        assertThat(main.config().provisioning().compressionThreads()).isEqualTo(Math.min(4, cpus)).isBetween(1, 4);
    }

    @Test
    void config_compressionThreads_isKept() throws Exception {
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(args("--compression-threads", "3"));

        assertThat(main.config().provisioning().compressionThreads()).isEqualTo(3);
    }

    @Test
    void config_volumeStatsCacheTtl_defaultsToKubeletsPeriod_andZeroTurnsItOff() throws Exception {
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(args());
        assertThat(main.config().statsCacheTtl()).isEqualTo(java.time.Duration.ofMinutes(1));

        Main off = new Main();
        new picocli.CommandLine(off).parseArgs(args("--volume-stats-cache-ttl", "0"));
        assertThat(off.config().statsCacheTtl()).isZero();
    }

    @Test
    void config_inlineAllowedShares_commaSeparatedAndRepeated_areAllKept_andNoneByDefault() throws Exception {
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(args("--inline-allowed-shares", "nfs.example.com:/a/**,*:/b/",
                "--inline-allowed-shares=[FD00::1]:/c"));
        assertThat(main.config().inlineAllowedShares().format())
                .isEqualTo("nfs.example.com:/a/**,*:/b,[fd00:0:0:0:0:0:0:1]:/c");

        Main none = new Main();
        new picocli.CommandLine(none).parseArgs(args());
        assertThat(none.config().inlineAllowedShares().isEmpty()).isTrue();
    }

    @Test
    void config_publishRecordLookup_onByDefault_offWithFalse() throws Exception {
        Main main = new Main();
        new picocli.CommandLine(main).parseArgs(args());
        assertThat(main.config().publishRecordLookup()).isTrue();

        Main off = new Main();
        new picocli.CommandLine(off).parseArgs(args("--publish-record-lookup=false"));
        assertThat(off.config().publishRecordLookup()).isFalse();
    }

    @Test
    void run_help_returns0AndListsEveryFlag() {
        int code = Main.run(new String[] {"--help"});

        assertThat(code).isZero();
        assertThat(out()).contains("--endpoint", "--nodeid", "--drivername", "--mount-timeout", "--stats-timeout",
                "--working-mount-dir", "--shutdown-grace", "--share", "--compression-threads", "-v", "--v", "--logging-format", "--help",
                "--version");
        assertThat(out()).contains("nfs.csi.io", "2m", "10s", "30s");
    }

    @ParameterizedTest
    @ValueSource(strings = {"--version", "-V"})
    void run_version_returns0AndPrintsName(String flag) {
        int code = Main.run(new String[] {flag});

        assertThat(code).isZero();
        assertThat(out().lines().toList()).singleElement().asString().startsWith("nfs-csi ");
    }

    @Test
    void run_badLoggingFormat_returns2() {
        int code = Main.run(new String[] {"--logging-format=xml"});

        assertThat(code).isEqualTo(2);
        assertThat(err()).contains("--logging-format");
    }
}
