package io.nfscsi.walkthrough;

import static io.nfscsi.testbed.Shell.step;
import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * A pooled share mount goes stale when the server replaces the exported file system; the next call finds out and
 * mounts the share again instead of failing.
 */
@Tag("nfs")
class StaleShareTest {

    static final Path SHARE = Path.of("/export-stale");
    static DriverProcess driver;

    @BeforeAll
    static void start() throws Exception {
        export(50);
        driver = DriverProcess.start(Path.of("/run/nfs-csi-stale"), "--share-check-interval", "0");
    }

    @AfterAll
    static void stop() throws Exception {
        if (driver != null) {
            driver.close();
        }
    }

    /** A fresh tmpfs exported at {@link #SHARE} under {@code fsid}: every file handle of the previous one is stale. */
    static void export(int fsid) {
        Shell.sh("exportfs -u 127.0.0.0/8:" + SHARE + " 2>/dev/null; mountpoint -q " + SHARE + " && umount " + SHARE
                + "; mkdir -p " + SHARE + " && mount -t tmpfs -o size=64m stale" + fsid + " " + SHARE
                + " && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=" + fsid + " 127.0.0.0/8:"
                + SHARE).orThrow();
    }

    static long mountsLogged() {
        return driver.log().lines().filter(l -> l.contains("mounted share 127.0.0.1:" + SHARE + " ")).count();
    }

    static List<MountEntry> poolMounts() {
        return MountTable.read().entries().stream().filter(e -> e.source().equals("127.0.0.1:" + SHARE)).toList();
    }

    static Csi.Volume create(String pv) {
        return driver.controller().createVolume(Provisioner.create(pv, "ns", pv, 1 << 20,
                Map.of("server", "127.0.0.1", "share", SHARE.toString()), List.of("vers=4.1"))).getVolume();
    }

    @Test
    void staleShareMount_isMountedAgain() {
        create("pvc-before");
        assertThat(SHARE.resolve("pvc-before")).isDirectory();
        assertThat(mountsLogged()).isEqualTo(1);
        step("the server replaces the exported file system (new tmpfs, new fsid)");
        export(51);
        create("pvc-after");
        assertThat(SHARE.resolve("pvc-after")).isDirectory();
        step("the pool noticed the stale mount and mounted the share again");
        assertThat(driver.log()).contains("is stale; mounting it again");
        assertThat(mountsLogged()).isEqualTo(2);
        assertThat(poolMounts()).as("the stale mount is gone, one fresh mount remains").hasSize(1);
    }
}
