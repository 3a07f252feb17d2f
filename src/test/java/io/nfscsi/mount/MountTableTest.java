package io.nfscsi.mount;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MountTableTest {

    private static final String NFS4 = "512 28 0:53 / /var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv1/mount "
            + "rw,relatime shared:300 - nfs4 127.0.0.1:/export rw,vers=4.2,rsize=1048576,wsize=1048576,namlen=255,"
            + "hard,proto=tcp,timeo=600,retrans=2,sec=sys,clientaddr=127.0.0.1,local_lock=none,addr=127.0.0.1";
    private static final String NFS3 = "600 28 0:60 /sub /mnt/v3 ro,nosuid,nodev,relatime - nfs 10.0.0.5:/srv/nfs "
            + "ro,vers=3,rsize=65536,wsize=65536,namlen=255,hard,proto=tcp,timeo=600,retrans=2,sec=sys,"
            + "mountaddr=10.0.0.5,mountvers=3,mountport=20048,mountproto=udp,local_lock=none,addr=10.0.0.5";
    private static final String ROOT = "27 1 259:2 / / rw,relatime shared:1 - ext4 /dev/nvme0n1p2 rw,errors=remount-ro";
    private static final String SLAVE = "36 35 98:0 /mnt1 /mnt2 rw,noatime shared:1 master:2 propagate_from:3 "
            + "unbindable - ext3 /dev/root rw,errors=continue";
    private static final String NO_OPTIONAL = "22 27 0:21 / /proc rw,relatime - proc proc rw";

    @Test
    void parse_nfs4Line_readsEveryField() {
        MountEntry e = single(NFS4);

        assertThat(e.mountId()).isEqualTo(512);
        assertThat(e.parentId()).isEqualTo(28);
        assertThat(e.root()).isEqualTo("/");
        assertThat(e.mountPoint()).isEqualTo(Path.of("/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv1/mount"));
        assertThat(e.mountOptions()).containsExactly("rw", "relatime");
        assertThat(e.fsType()).isEqualTo("nfs4");
        assertThat(e.source()).isEqualTo("127.0.0.1:/export");
        assertThat(e.superOptions()).startsWith("rw", "vers=4.2").contains("addr=127.0.0.1").hasSize(13);
        assertThat(e.isNfs()).isTrue();
        assertThat(e.readOnly()).isFalse();
    }

    @Test
    void parse_nfs3ReadOnlyLine_readsEveryField() {
        MountEntry e = single(NFS3);

        assertThat(e.mountId()).isEqualTo(600);
        assertThat(e.root()).isEqualTo("/sub");
        assertThat(e.mountPoint()).isEqualTo(Path.of("/mnt/v3"));
        assertThat(e.mountOptions()).containsExactly("ro", "nosuid", "nodev", "relatime");
        assertThat(e.fsType()).isEqualTo("nfs");
        assertThat(e.source()).isEqualTo("10.0.0.5:/srv/nfs");
        assertThat(e.superOptions()).contains("vers=3", "mountproto=udp");
        assertThat(e.isNfs()).isTrue();
        assertThat(e.readOnly()).isTrue();
    }

    @ParameterizedTest
    @ValueSource(strings = {ROOT, SLAVE, NO_OPTIONAL})
    void parse_anyNumberOfOptionalFields_findsSeparator(String line) {
        MountEntry e = single(line);

        assertThat(e.fsType()).isIn("ext4", "ext3", "proc");
        assertThat(e.superOptions()).isNotEmpty();
        assertThat(e.isNfs()).isFalse();
    }

    @Test
    void parse_manyOptionalFields_readsFieldsAfterSeparator() {
        MountEntry e = single(SLAVE);

        assertThat(e.root()).isEqualTo("/mnt1");
        assertThat(e.mountPoint()).isEqualTo(Path.of("/mnt2"));
        assertThat(e.mountOptions()).containsExactly("rw", "noatime");
        assertThat(e.source()).isEqualTo("/dev/root");
        assertThat(e.superOptions()).containsExactly("rw", "errors=continue");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            /mnt/with\\040space      | /mnt/with space
            /mnt/tab\\011here        | /mnt/tab\\there
            /mnt/back\\134slash      | /mnt/back\\slash
            /mnt/new\\012line        | /mnt/new\\nline
            /mnt/a\\040b\\040\\134c  | /mnt/a b \\c
            /mnt/not\\9escape        | /mnt/not\\9escape
            /mnt/short\\04           | /mnt/short\\04
            """)
    void parse_escapedMountPoint_isDecoded(String escaped, String expected) {
        MountEntry e = single("700 28 0:70 / " + escaped + " rw - nfs4 srv:/export rw");

        assertThat(e.mountPoint()).isEqualTo(Path.of(expected.replace("\\t", "\t").replace("\\n", "\n")));
    }

    @Test
    void parse_escapedSource_isDecoded() {
        MountEntry e = single("700 28 0:70 / /mnt rw - nfs4 srv:/my\\040export rw");

        assertThat(e.source()).isEqualTo("srv:/my export");
    }

    @Test
    void parse_lineWithoutSuperOptionsButTenFields_isRead() {
        MountTable table = MountTable.parse("1 2 0:1 / /a rw x:1 - ext4 /dev/sda");

        assertThat(table.entries()).singleElement().satisfies(e -> {
            assertThat(e.fsType()).isEqualTo("ext4");
            assertThat(e.superOptions()).isEmpty();
        });
    }

    @Test
    void parse_stackedMounts_atReturnsLastAndCountAtCountsAll() {
        MountTable table = MountTable.parse(String.join("\n",
                ROOT,
                "100 27 0:50 / /mnt/vol rw,relatime - nfs4 a:/one rw,vers=4.1",
                "101 100 0:51 / /mnt/vol rw,relatime - nfs4 b:/two rw,vers=4.1",
                "102 27 0:52 / /mnt/other rw - tmpfs tmpfs rw",
                "103 101 0:53 / /mnt/vol ro,relatime - nfs c:/three ro,vers=3",
                ""));

        assertThat(table.entries()).hasSize(5);
        assertThat(table.at(Path.of("/mnt/vol"))).get().extracting(MountEntry::source).isEqualTo("c:/three");
        assertThat(table.countAt(Path.of("/mnt/vol"))).isEqualTo(3);
        assertThat(table.countAt(Path.of("/mnt/other"))).isEqualTo(1);
        assertThat(table.countAt(Path.of("/mnt"))).isZero();
        assertThat(table.isMountPoint(Path.of("/mnt/vol"))).isTrue();
        assertThat(table.isMountPoint(Path.of("/mnt/vol/sub"))).isFalse();
        assertThat(table.at(Path.of("/mnt/nothing"))).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"/mnt/vol/", "/mnt//vol", "/mnt/./vol", "/mnt/x/../vol"})
    void at_unnormalizedPath_isNormalizedFirst(String path) {
        MountTable table = MountTable.parse("100 27 0:50 / /mnt/vol rw - nfs4 a:/one rw");

        assertThat(table.at(Path.of(path))).isPresent();
        assertThat(table.countAt(Path.of(path))).isEqualTo(1);
    }

    @Test
    void parse_malformedLines_areSkippedAndGoodOnesKept() {
        MountTable table = MountTable.parse(String.join("\n",
                "garbage",
                "",
                "   ",
                "1 2 3",
                "x 27 0:50 / /mnt/bad-id rw - nfs4 a:/one rw",
                "100 y 0:50 / /mnt/bad-parent rw - nfs4 a:/one rw",
                "100 27 0:50 / /mnt/no-separator rw shared:1 nfs4 a:/one rw",
                "100 27 - / /mnt/early rw a b c d",
                "100 27 0:50 / /mnt/short rw - nfs4",
                "100 27 0:50 / /mnt/bad\0path rw - nfs4 a:/one rw",
                NFS4,
                "99999999999 27 0:50 / /mnt/overflow rw - nfs4 a:/one rw",
                NO_OPTIONAL));

        assertThat(table.entries()).extracting(MountEntry::mountPoint)
                .containsExactly(Path.of("/var/lib/kubelet/pods/p1/volumes/kubernetes.io~csi/pv1/mount"),
                        Path.of("/proc"));
    }

    @Test
    void parse_crlfAndTrailingBlanks_areTolerated() {
        MountTable table = MountTable.parse(NO_OPTIONAL + "\r\n" + ROOT + "  \n");

        assertThat(table.entries()).extracting(MountEntry::fsType).containsExactly("proc", "ext4");
    }

    @Test
    void parse_empty_isEmptyTable() {
        assertThat(MountTable.parse("").entries()).isEmpty();
        assertThat(MountTable.parse("").at(Path.of("/"))).isEmpty();
    }

    @Test
    void entries_areImmutable() {
        List<MountEntry> entries = MountTable.parse(ROOT).entries();

        org.assertj.core.api.Assertions.assertThatThrownBy(() -> entries.clear())
                .isInstanceOf(UnsupportedOperationException.class);
    }

    @ParameterizedTest
    @CsvSource({"nfs, true", "nfs4, true", "nfsd, false", "rpc_pipefs, false", "tmpfs, false", "fuse.sshfs, false",
            "NFS, false", "nfs3, false"})
    void isNfs_byFsType(String fsType, boolean nfs) {
        assertThat(entry(List.of("rw"), fsType, List.of("rw")).isNfs()).isEqualTo(nfs);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', textBlock = """
            ro                 | true
            ro,relatime        | true
            nosuid,ro          | true
            rw                 | false
            rw,relatime        | false
            rw,errors=ro       | false
            """)
    void readOnly_fromPerMountOptions(String options, boolean readOnly) {
        assertThat(entry(List.of(options.split(",")), "nfs4", List.of("rw")).readOnly()).isEqualTo(readOnly);
    }

    @Test
    void readOnly_readOnlySuperBlock_isTrue() {
        assertThat(entry(List.of("rw", "relatime"), "nfs4", List.of("ro", "vers=4.2")).readOnly()).isTrue();
    }

    @Test
    void read_realMountTable_hasRoot() {
        MountTable table = MountTable.read();

        assertThat(table.entries()).isNotEmpty();
        assertThat(table.isMountPoint(Path.of("/"))).isTrue();
        assertThat(table.countAt(Path.of("/"))).isPositive();
    }

    @Test
    void unescape_withoutBackslash_isSameString() {
        String s = "/plain/path";

        assertThat(MountTable.unescape(s)).isSameAs(s);
    }

    private static MountEntry single(String line) {
        List<MountEntry> entries = MountTable.parse(line).entries();
        assertThat(entries).hasSize(1);
        return entries.getFirst();
    }

    private static MountEntry entry(List<String> options, String fsType, List<String> superOptions) {
        return new MountEntry(1, 0, "/", Path.of("/mnt"), options, fsType, "srv:/export", superOptions);
    }
}
