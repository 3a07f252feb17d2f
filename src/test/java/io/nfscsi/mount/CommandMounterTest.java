package io.nfscsi.mount;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CommandMounterTest {

    @ParameterizedTest(name = "exit {0}: {1} / {2} -> {3}")
    @CsvSource(delimiter = '|', textBlock = """
            32 | ''   | mount.nfs: access denied by server while mounting 10.0.0.1:/export               | ACCESS_DENIED
            32 | ''   | mount.nfs: Access Denied by server while mounting 10.0.0.1:/export               | ACCESS_DENIED
            32 | ''   | mount.nfs: Permission denied                                                     | ACCESS_DENIED
            32 | access denied by server while mounting 10.0.0.1:/export | ''                           | ACCESS_DENIED
            1  | ''   | mount.nfs: access denied by server while mounting 10.0.0.1:/export               | FAILED
            32 | ''   | mount.nfs: mounting 10.0.0.1:/nope failed, reason given by server: No such file or directory | NO_SUCH_PATH
            1  | ''   | mount: /mnt/x: mount point does not exist: No such file or directory             | NO_SUCH_PATH
            32 | ''   | mount.nfs: Stale file handle                                                     | STALE
            32 | ''   | mount.nfs: Connection timed out                                                  | FAILED
            32 | ''   | mount.nfs: Protocol not supported                                                | FAILED
            32 | ''   | mount.nfs: an incorrect mount option was specified                               | FAILED
            1  | ''   | ''                                                                               | FAILED
            32 | ''   | ''                                                                               | FAILED
            """)
    void classifyMountFailure_byExitCodeAndMessage(int exitCode, String stdout, String stderr,
                                                   MountException.Kind expected) {
        ProcessRunner.Result result = new ProcessRunner.Result(exitCode, stdout, stderr);

        assertThat(CommandMounter.classifyMountFailure(result)).isEqualTo(expected);
    }
}
