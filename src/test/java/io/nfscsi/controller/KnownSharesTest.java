package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.nfscsi.controller.SharePool.ShareKey;
import io.nfscsi.volume.NfsSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The known shares: the flags, and the shares learned from calls, remembered in the working directory. */
class KnownSharesTest {

    @TempDir
    Path work;

    static ShareKey key(String path, String... options) {
        return new ShareKey(NfsSource.of("nfs.example.com", path, null), List.of(options));
    }

    @Test
    void load_noFile_knowsTheFlagsOnly() {
        KnownShares known = KnownShares.load(work, List.of(key("/a"), key("/a")));
        assertThat(known.all()).containsExactly(key("/a"));
        assertThat(work.resolve(KnownShares.FILE)).doesNotExist();
    }

    @Test
    void learn_isRememberedAfterARestart_flagsFirst_noTemporaryFileLeft() throws Exception {
        KnownShares before = KnownShares.load(work, List.of(key("/flag")));
        before.learn(key("/b", "nfsvers=3", "hard"));
        before.learn(key("/a"));
        before.learn(key("/flag"));
        before.learn(key("/a"));

        KnownShares after = KnownShares.load(work, List.of(key("/flag")));
        assertThat(after.all()).containsExactly(key("/flag"), key("/b", "nfsvers=3", "hard"), key("/a"));
        try (Stream<Path> files = Files.list(work)) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly(KnownShares.FILE);
        }
    }

    @Test
    void load_removesTheTemporaryFileOfAWriteACrashInterrupted_keepsTheFile() throws Exception {
        KnownShares.load(work, List.of()).learn(key("/a"));
        // as a killed process leaves them, named after its replica and process, or (older versions) the file
        Files.writeString(work.resolve(".00112233445566aa.aabbccddeeff.replica-a.tmp"), "nfs.example.com:/half");
        Files.writeString(work.resolve("." + KnownShares.FILE + ".0b7c6a1e-3c55-4d5e-9a3b-1f0e2d4c5b6a.tmp"),
                "nfs.example.com:/half");
        Files.writeString(work.resolve("unrelated.tmp"), "x");
        Files.createDirectory(work.resolve(".a-directory.tmp"));

        KnownShares after = KnownShares.load(work, List.of());

        assertThat(after.all()).containsExactly(key("/a"));
        try (Stream<Path> files = Files.list(work)) {
            assertThat(files).extracting(p -> p.getFileName().toString())
                    .containsExactlyInAnyOrder(KnownShares.FILE, "unrelated.tmp", ".a-directory.tmp");
        }
    }

    @Test
    void load_damagedFile_keepsTheLinesThatParse_andTheNextWriteDropsTheRest() throws Exception {
        Path file = work.resolve(KnownShares.FILE);
        Files.write(file, new byte[] {(byte) 0xff, 0, '\n', 'x', '\n'});
        Files.writeString(file, "nfs.example.com:/good,nfsvers=4.1\nno-colon\nnfs.example.com:relative\n"
                + "nfs.example.com:/a/../b\nnfs.example.com:/bad,opt ion\nnfs.example.com:/half", 
                java.nio.file.StandardOpenOption.APPEND);

        KnownShares known = KnownShares.load(work, List.of());
        assertThat(known.all()).containsExactly(key("/good", "nfsvers=4.1"), key("/half"));
        known.learn(key("/new"));
        assertThat(Files.readAllLines(file)).filteredOn(l -> !l.startsWith("#"))
                .containsExactly("nfs.example.com:/good,nfsvers=4.1", "nfs.example.com:/half",
                        "nfs.example.com:/new");
    }

    @Test
    void load_oversizedFile_isIgnored() throws Exception {
        Files.writeString(work.resolve(KnownShares.FILE), ("nfs.example.com:/a\n").repeat(20_000));
        assertThat(KnownShares.load(work, List.of(key("/flag"))).all()).containsExactly(key("/flag"));
    }

    @Test
    void learn_beyondTheBound_forgetsTheOldestLearned_neverAFlag() {
        KnownShares known = KnownShares.load(work, List.of(key("/flag")));
        for (int i = 0; i <= KnownShares.MAX_LEARNED; i++) {
            known.learn(key("/s" + i));
        }
        List<ShareKey> all = KnownShares.load(work, List.of(key("/flag"))).all();
        assertThat(all).hasSize(KnownShares.MAX_LEARNED + 1).startsWith(key("/flag"), key("/s1"))
                .doesNotContain(key("/s0"));
    }

    @Test
    void learn_fileCannotBeWritten_keepsTheShareInMemory() throws Exception {
        Files.createDirectories(work.resolve(KnownShares.FILE).resolve("in-the-way"));
        KnownShares known = KnownShares.load(work, List.of());
        known.learn(key("/a"));
        assertThat(known.all()).containsExactly(key("/a"));
    }

    @Test
    void shareFlag_parsesServerExportAndOptions_andFormatsBack() {
        var share = ControllerSettings.Share.parse("--share", "nfs.example.com:/exports/k8s,nfsvers=4.1,hard");
        assertThat(share.source()).isEqualTo(NfsSource.of("nfs.example.com", "/exports/k8s", null));
        assertThat(share.mountOptions()).containsExactly("nfsvers=4.1", "hard");
        assertThat(share.format()).isEqualTo("nfs.example.com:/exports/k8s,nfsvers=4.1,hard");
        var v6 = ControllerSettings.Share.parse("--share", "[fd00::1]:/e");
        assertThat(v6.source().server()).isEqualTo("[fd00::1]");
        assertThat(ControllerSettings.Share.parse("--share", v6.format())).isEqualTo(v6);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "nfs.example.com", "nfs.example.com:exports", ":/exports", "a b:/e",
            "nfs.example.com:/a/../b", "nfs.example.com:/e,bad option", "nfs.example.com:/e,x\ny"})
    void shareFlag_malformed_isRefusedNamingTheFlag(String value) {
        assertThatThrownBy(() -> ControllerSettings.Share.parse("--share", value))
                .isInstanceOf(IllegalArgumentException.class).hasMessageStartingWith("--share");
    }
}
