package io.nfscsi.walkthrough;

import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.EXPORT;
import static io.nfscsi.walkthrough.StaticVolumeWalkthroughTest.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Status;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** The other ways a static volume is published, each against the real NFS server. */
@Tag("nfs")
class PublishVariantsTest {

    static DriverProcess driver;

    @BeforeAll
    static void startDriver() throws Exception {
        driver = DriverProcess.start(Path.of("/run/nfs-csi-variants"));
    }

    @AfterAll
    static void stopDriver() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    private static Map<String, String> pv(String... extra) {
        var m = new java.util.HashMap<>(Map.of("server", "127.0.0.1", "share", EXPORT.toString()));
        for (int i = 0; i < extra.length; i += 2) {
            m.put(extra[i], extra[i + 1]);
        }
        return m;
    }

    @Test
    void readOnlyPublish_refusesWrites() throws Exception {
        Path target = Kubelet.newTarget("ro-pv");
        driver.node().nodePublishVolume(Kubelet.publish("ro", target, pv(), true, List.of()));
        try {
            assertThat(MountTable.read().at(target).orElseThrow().readOnly()).isTrue();
            Shell.Result write = new Pod(target).exec("echo x > ro-write");
            assertThat(write.exitCode()).isNotZero();
            assertThat(write.output()).containsIgnoringCase("read-only");
            assertThat(EXPORT.resolve("ro-write")).doesNotExist();
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("ro", target));
        }
        assertThat(target).doesNotExist();
    }

    @Test
    void subDirPublish_showsOnlyThatDirectory() throws Exception {
        Files.createDirectories(EXPORT.resolve("tenants/a/data"));
        Files.writeString(EXPORT.resolve("tenants/a/data/inside"), "a");
        Files.writeString(EXPORT.resolve("tenants/outside"), "b");
        Path target = Kubelet.newTarget("sub-pv");
        driver.node().nodePublishVolume(Kubelet.publish("sub", target, pv("subDir", "tenants/a"), false, List.of()));
        try {
            MountEntry mount = MountTable.read().at(target).orElseThrow();
            assertThat(mount.source()).isEqualTo("127.0.0.1:" + EXPORT + "/tenants/a");
            assertThat(new Pod(target).exec("ls -A").orThrow().output().lines()).containsExactly("data");
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("sub", target));
        }
    }

    @ParameterizedTest
    @CsvSource({"vers=3, nfs, vers=3", "vers=4.1, nfs4, vers=4.1", "nfsvers=4.2, nfs4, vers=4.2"})
    void nfsVersions_fromMountFlags_allWork(String flag, String fsType, String superOption) throws Exception {
        Path target = Kubelet.newTarget("vers-pv");
        driver.node().nodePublishVolume(Kubelet.publish("vers", target, pv(), false, List.of(flag, "hard")));
        try {
            MountEntry mount = MountTable.read().at(target).orElseThrow();
            assertThat(mount.fsType()).isEqualTo(fsType);
            assertThat(mount.superOptions()).contains(superOption, "hard");
            assertThat(new Pod(target).exec("ls").orThrow().output()).contains("mongodb");
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("vers", target));
        }
    }

    @Test
    void mountOptionsAttribute_isAppliedWithTheFlags() throws Exception {
        Path target = Kubelet.newTarget("opts-pv");
        driver.node().nodePublishVolume(Kubelet.publish("opts", target, pv("mountOptions", "vers=3,noac"), false,
                List.of("nolock")));
        try {
            MountEntry mount = MountTable.read().at(target).orElseThrow();
            assertThat(mount.superOptions()).contains("vers=3", "nolock");
            assertThat(mount.superOptions()).anyMatch(o -> o.startsWith("acregmax=0") || o.equals("noac")
                    || o.startsWith("acdirmax=0"));
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("opts", target));
        }
    }

    @Test
    void mountPermissions_areAppliedToTheMountedRoot() throws Exception {
        Files.createDirectories(EXPORT.resolve("perm"));
        Path target = Kubelet.newTarget("perm-pv");
        driver.node().nodePublishVolume(Kubelet.publish("perm", target,
                pv("subDir", "perm", "mountPermissions", "2777"), false, List.of()));
        try {
            int mode = (Integer) Files.getAttribute(EXPORT.resolve("perm"), "unix:mode") & 07777;
            assertThat(Integer.toOctalString(mode)).isEqualTo("2777");
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("perm", target));
        }
    }

    @Test
    void exportNotOfferedToUs_isPermissionDenied_andLeavesNoTarget() throws Exception {
        Shell.sh("mkdir -p /export-denied && (mountpoint -q /export-denied || mount -t tmpfs t /export-denied)"
                + " && exportfs -o rw,no_root_squash,no_subtree_check,fsid=77 127.0.0.2:/export-denied").orThrow();
        Path target = Kubelet.newTarget("denied-pv");
        assertCode(() -> driver.node().nodePublishVolume(Kubelet.publish("denied", target,
                Map.of("server", "127.0.0.1", "share", "/export-denied"), false, List.of("vers=3", "retry=0"))),
                Status.Code.PERMISSION_DENIED);
        assertThat(MountTable.read().isMountPoint(target)).isFalse();
        assertThat(target).doesNotExist();
    }

    @Test
    void missingExportPath_isNotFound_andLeavesNoTarget() throws Exception {
        Path target = Kubelet.newTarget("missing-pv");
        assertCode(() -> driver.node().nodePublishVolume(Kubelet.publish("missing", target,
                pv("subDir", "no/such/dir"), false, List.of("vers=4.1"))), Status.Code.NOT_FOUND);
        assertThat(target).doesNotExist();
    }

    @Test
    void ipv6Server_isBracketed() throws Exception {
        Shell.Result v6 = Shell.sh("modprobe ipv6 2>/dev/null; ip -6 addr show dev lo | grep -q '::1'");
        org.junit.jupiter.api.Assumptions.assumeTrue(v6.exitCode() == 0, "no IPv6 loopback in the test bed");
        // an export of its own, offered to [::1] only, over NFSv3: NFSv4 would share one client with any other
        // mount of this server and show that mount's host name (see NfsSource#matchesPath)
        Shell.sh("mkdir -p /export-v6 && (mountpoint -q /export-v6 || mount -t tmpfs v6 /export-v6)"
                + " && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=66 '[::1]:/export-v6'").orThrow();
        Path target = Kubelet.newTarget("v6-pv");
        driver.node().nodePublishVolume(Kubelet.publish("v6", target,
                Map.of("server", "::1", "share", "/export-v6"), false, List.of("vers=3")));
        try {
            assertThat(MountTable.read().at(target).orElseThrow().source()).isEqualTo("[::1]:/export-v6");
            driver.node().nodePublishVolume(Kubelet.publish("v6", target,
                    Map.of("server", "::1", "share", "/export-v6"), false, List.of("vers=3")));
        } finally {
            driver.node().nodeUnpublishVolume(Kubelet.unpublish("v6", target));
        }
    }
}
