package io.nfscsi.mount;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.concurrent.Deadline;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ProcessRunnerTest {

    @TempDir
    Path dir;

    @Test
    void run_commandThatSucceeds_capturesExitCodeStdoutAndStderr() throws Exception {
        ProcessRunner.Result result = ProcessRunner.run(List.of("sh", "-c", "echo out; echo err >&2"),
                Deadline.after(30, TimeUnit.SECONDS));

        assertThat(result.exitCode()).isZero();
        assertThat(result.stdout()).isEqualTo("out\n");
        assertThat(result.stderr()).isEqualTo("err\n");
    }

    @Test
    void run_commandThatFails_returnsItsExitCode() throws Exception {
        ProcessRunner.Result result = ProcessRunner.run(List.of("sh", "-c", "echo 'no luck' >&2; exit 32"),
                Deadline.after(30, TimeUnit.SECONDS));

        assertThat(result.exitCode()).isEqualTo(32);
        assertThat(result.message()).isEqualTo("no luck");
    }

    @Test
    void run_argumentsAreNotInterpretedByAShell() throws Exception {
        ProcessRunner.Result result = ProcessRunner.run(List.of("echo", "$HOME; touch " + dir.resolve("x")),
                Deadline.after(30, TimeUnit.SECONDS));

        assertThat(result.stdout()).isEqualTo("$HOME; touch " + dir.resolve("x") + "\n");
        assertThat(dir.resolve("x")).doesNotExist();
    }

    @Test
    void run_setsCLocale() throws Exception {
        ProcessRunner.Result result = ProcessRunner.run(List.of("sh", "-c", "echo $LC_ALL"),
                Deadline.after(30, TimeUnit.SECONDS));

        assertThat(result.stdout().strip()).isEqualTo("C");
    }

    @Test
    void run_stdinIsClosed() throws Exception {
        ProcessRunner.Result result = ProcessRunner.run(List.of("cat"), Deadline.after(30, TimeUnit.SECONDS));

        assertThat(result.exitCode()).isZero();
        assertThat(result.stdout()).isEmpty();
    }

    @Test
    void run_hugeOutput_isCappedAndDoesNotBlockTheProcess() throws Exception {
        ProcessRunner.Result result = ProcessRunner.run(List.of("head", "-c", "1000000", "/dev/zero"),
                Deadline.after(30, TimeUnit.SECONDS));

        assertThat(result.exitCode()).isZero();
        assertThat(result.stdout()).hasSize(16 * 1024);
    }

    @Test
    void run_missingProgram_isIOException() {
        assertThatThrownBy(() -> ProcessRunner.run(List.of("/nonexistent/nfs-csi-no-such-tool"),
                Deadline.after(30, TimeUnit.SECONDS))).isInstanceOf(IOException.class);
    }

    @Test
    @Timeout(20)
    void run_pastDeadline_throwsQuicklyAndLeavesNoDescendantAlive() throws Exception {
        Path pids = dir.resolve("pids");
        // unique sleep lengths mark every process of the tree, whether or not it got to record its pid
        String marker = "29." + Math.abs(UUID.randomUUID().getMostSignificantBits() % 1_000_000_000L);
        String script = "echo $$ >> '" + pids + "'; "
                + "sleep " + marker + " & echo $! >> '" + pids + "'; "
                + "sh -c 'echo $$ >> \"$1\"; sleep " + marker + " & echo $! >> \"$1\"; wait' nested '" + pids + "' & "
                + "echo $! >> '" + pids + "'; "
                + "sleep " + marker + "; wait";
        long start = System.nanoTime();

        assertThatThrownBy(() -> ProcessRunner.run(List.of("sh", "-c", script),
                Deadline.after(300, TimeUnit.MILLISECONDS)))
                .isInstanceOf(ProcessRunner.TimedOutException.class);

        Duration took = Duration.ofNanos(System.nanoTime() - start);
        assertThat(took).isLessThan(Duration.ofSeconds(10));
        List<Long> recorded = Files.readAllLines(pids).stream().map(String::strip).map(Long::parseLong).toList();
        assertThat(recorded).as("the shell recorded its own pid before the deadline").isNotEmpty();
        assertThat(recorded).allSatisfy(pid ->
                assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).as("pid %d", pid).isEmpty());
        assertThat(ProcessHandle.allProcesses()
                .filter(ProcessHandle::isAlive)
                .filter(p -> p.info().commandLine().orElse("").contains(marker))
                .map(ProcessHandle::pid)
                .toList()).isEmpty();
    }

    @Test
    void run_expiredDeadline_doesNotStartTheProcess() {
        Path created = dir.resolve("started");
        Deadline expired = Deadline.after(-1, TimeUnit.SECONDS);

        assertThatThrownBy(() -> ProcessRunner.run(List.of("touch", created.toString()), expired))
                .isInstanceOf(ProcessRunner.TimedOutException.class);
        assertThat(created).doesNotExist();
    }

    @Test
    void run_interruptedWhileWaiting_killsTreeAndKeepsInterruptFlag() throws Exception {
        Path pids = dir.resolve("pids");
        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> ProcessRunner.run(
                    List.of("sh", "-c", "echo $$ >> '" + pids + "'; exec sleep 30"),
                    Deadline.after(30, TimeUnit.SECONDS)))
                    .isInstanceOf(ProcessRunner.TimedOutException.class);
            assertThat(Thread.currentThread().isInterrupted()).isTrue();
        } finally {
            Thread.interrupted();
        }
        if (Files.exists(pids)) {
            for (String pid : Files.readAllLines(pids)) {
                assertThat(ProcessHandle.of(Long.parseLong(pid.strip())).filter(ProcessHandle::isAlive)).isEmpty();
            }
        }
    }

    @Test
    @Timeout(20)
    void killTree_killsRootAndEveryDescendant() throws Exception {
        Process p = new ProcessBuilder("sh", "-c", "sleep 30 & sh -c 'sleep 30 & wait' & sleep 30; wait")
                .redirectErrorStream(true).start();
        try {
            // the tree is built by the time the root has a descendant running the inner shell's sleep
            List<ProcessHandle> tree;
            do {
                tree = p.descendants().toList();
                Thread.onSpinWait();
            } while (tree.size() < 4 && p.isAlive());

            int killed = ProcessRunner.killTree(p.toHandle());

            assertThat(killed).isPositive(); // a parent may exit on its own once its children die
            assertThat(p.isAlive()).isFalse();
            assertThat(tree).noneMatch(ProcessHandle::isAlive);
        } finally {
            p.destroyForcibly();
        }
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', quoteCharacter = '"', textBlock = """
            "out"       | "err"     | err
            "out"       | ""        | out
            " out \\n"  | " \\n "   | out
            ""          | ""        | ""
            """)
    void resultMessage_prefersStderrThenStdout(String stdout, String stderr, String expected) {
        assertThat(new ProcessRunner.Result(1, stdout.replace("\\n", "\n"), stderr.replace("\\n", "\n")).message())
                .isEqualTo(expected);
    }
}
