package io.nfscsi.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.nfscsi.error.CsiException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SafePathsTest {

    @TempDir
    Path work;

    @TempDir
    Path outside;

    Path root;

    @BeforeEach
    void share() throws Exception {
        root = Files.createDirectories(work.resolve("share"));
        Files.createDirectories(root.resolve("vols/existing"));
        Files.writeString(root.resolve("vols/file"), "x");
        Files.createSymbolicLink(root.resolve("vols/link"), outside);
        Files.createDirectories(outside.resolve("inner"));
    }

    private static Status.Code codeOf(Runnable call) {
        return catchThrowableOfType(CsiException.class, call::run).code();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vols/existing", "vols/existing/absent", "vols/absent/deeper/still", "new"})
    void resolveUnder_plainPathWithRealOrAbsentComponents_resolvesBelowRoot(String relative) {
        assertThat(SafePaths.resolveUnder(root, relative)).isEqualTo(root.resolve(relative));
    }

    @ParameterizedTest
    @ValueSource(strings = {"/vols", "../share", "vols/../..", "vols/./existing", ".", "..", "", "vols//existing",
            "vols/", "vols/exi\0sting"})
    void resolveUnder_pathNotPlain_invalidArgument(String relative) {
        assertThat(codeOf(() -> SafePaths.resolveUnder(root, relative))).isEqualTo(Status.Code.INVALID_ARGUMENT);
    }

    @Test
    void resolveUnder_nulInPath_messageShowsItEscaped() {
        CsiException e = catchThrowableOfType(CsiException.class, () -> SafePaths.resolveUnder(root, "a\0b"));

        assertThat(e).hasMessageContaining("a\\0b").hasMessageNotContaining("\0");
    }

    @ParameterizedTest
    @ValueSource(strings = {"vols/link", "vols/link/inner", "vols/file", "vols/file/below"})
    void resolveUnder_symlinkOrFileAmongComponents_failedPrecondition(String relative) {
        assertThat(codeOf(() -> SafePaths.resolveUnder(root, relative))).isEqualTo(Status.Code.FAILED_PRECONDITION);
    }

    @Test
    void resolveUnder_symlinkAmongComponents_messageNamesIt() {
        CsiException e = catchThrowableOfType(CsiException.class,
                () -> SafePaths.resolveUnder(root, "vols/link/inner/x"));

        assertThat(e).hasMessageContaining("vols/link ");
    }

    @Test
    void createDirectories_missingComponents_createsThemAndReportsCreated() {
        assertThat(SafePaths.createDirectories(root, "vols/new/a/b")).isTrue();

        assertThat(root.resolve("vols/new/a/b")).isEmptyDirectory();
    }

    @Test
    void createDirectories_alreadyThere_reportsNotCreated() {
        assertThat(SafePaths.createDirectories(root, "vols/existing")).isFalse();

        assertThat(root.resolve("vols/existing")).isEmptyDirectory();
    }

    @Test
    void createDirectories_lastMissingOnly_reportsCreated() {
        assertThat(SafePaths.createDirectories(root, "vols/existing/child")).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {"vols/link/new", "vols/link", "vols/file", "vols/file/new"})
    void createDirectories_symlinkOrFileAmongComponents_failsAndCreatesNothingOutside(String relative)
            throws Exception {
        assertThat(codeOf(() -> SafePaths.createDirectories(root, relative)))
                .isEqualTo(Status.Code.FAILED_PRECONDITION);

        assertThat(Files.exists(outside.resolve("new"), LinkOption.NOFOLLOW_LINKS)).isFalse();
        assertThat(root.resolve("vols/file")).hasContent("x");
    }

    @Test
    void createDirectories_pathNotPlain_invalidArgumentAndNothingCreated() throws Exception {
        assertThat(codeOf(() -> SafePaths.createDirectories(root, "vols/new/../escape")))
                .isEqualTo(Status.Code.INVALID_ARGUMENT);

        assertThat(Files.exists(root.resolve("vols/new"))).isFalse();
    }
}
