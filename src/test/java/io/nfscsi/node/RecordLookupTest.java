package io.nfscsi.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.Deadline;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.MountTable;
import io.nfscsi.mount.Mounter;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.InProcessCsi;
import io.nfscsi.testing.MutableClock;
import io.nfscsi.volume.AllowedShares;
import io.nfscsi.volume.VolumeRecordFormat;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Which publishes read the volume's record, and how its settings combine with the PV's, with an in-memory mount
 * table: a "mounted" share for the lookup is an empty local directory, into which {@link ShareWithRecord} puts the
 * record a real share would hold. The same against the real NFS server is {@code VolumeAttributesClassTest}.
 */
class RecordLookupTest {

    static final String OURS = "nfs-csi:1#nfs.example.com#/exports#pv-a#pv-a#delete";

    @TempDir
    Path dir;
    ShareWithRecord mounter;
    InProcessCsi csi;
    NodeGrpc.NodeBlockingStub node;
    Path stateDir;
    Path target;

    /** A fake mount of the share for the lookup shows {@code record}, when set. */
    static final class ShareWithRecord implements Mounter {
        final FakeMounter fake = new FakeMounter();
        volatile String record;

        @Override
        public void mount(String source, Path target, String fsType, List<String> options, Deadline deadline)
                throws MountException {
            fake.mount(source, target, fsType, options, deadline);
            if (record != null && target.getParent().getFileName().toString().equals(RecordLookup.DIRECTORY)) {
                try {
                    Path file = target.resolve(VolumeRecordFormat.relativePath("pv-a"));
                    Files.createDirectories(file.getParent());
                    Files.writeString(file, record);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        @Override
        public void unmount(Path target, Deadline deadline) throws MountException {
            fake.unmount(target, deadline);
            if (target.getParent().getFileName().toString().equals(RecordLookup.DIRECTORY)) {
                try (Stream<Path> files = Files.walk(target)) {
                    files.sorted(java.util.Comparator.reverseOrder()).filter(p -> !p.equals(target))
                            .forEach(p -> p.toFile().delete());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        }

        @Override
        public MountTable table() {
            return fake.table();
        }
    }

    @BeforeEach
    void start() throws Exception {
        mounter = new ShareWithRecord();
        stateDir = dir.resolve("plugin/node-state");
        csi = new InProcessCsi(new NodeService("node-1", mounter, new BoundedIo(8), stateDir, Duration.ofSeconds(5),
                Duration.ofSeconds(2), new MutableClock(Instant.parse("2026-01-01T00:00:00Z"))));
        node = NodeGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
        target = dir.resolve("pods/uid/volumes/kubernetes.io~csi/pv-a/mount");
        Files.createDirectories(target.getParent());
    }

    @AfterEach
    void stop() {
        csi.close();
    }

    static Csi.NodePublishVolumeRequest publish(String id, Path target) {
        return Csi.NodePublishVolumeRequest.newBuilder().setVolumeId(id).setTargetPath(target.toString())
                .setVolumeCapability(Csi.VolumeCapability.newBuilder()
                        .setMount(Csi.VolumeCapability.MountVolume.newBuilder().addMountFlags("nfsvers=4.1"))
                        .setAccessMode(Csi.VolumeCapability.AccessMode.newBuilder()
                                .setMode(Csi.VolumeCapability.AccessMode.Mode.MULTI_NODE_MULTI_WRITER)))
                .putVolumeContext("server", "nfs.example.com").putVolumeContext("share", "/exports")
                .putVolumeContext("subDir", "pv-a").putVolumeContext("mountOptions", "nfsvers=4.1,hard")
                .putVolumeContext("mountPermissions", "0770").build();
    }

    /** The options of the mount calls made at {@code at}. */
    List<String> optionsAt(Path at) {
        return mounter.fake.mountCalls.stream().filter(c -> c.get(1).equals(at.toString())).map(c -> c.get(3))
                .toList();
    }

    void assertLookupLeftNothing() throws Exception {
        Path lookups = stateDir.resolve(RecordLookup.DIRECTORY);
        try (Stream<Path> left = Files.list(lookups)) {
            assertThat(left.toList()).isEmpty();
        }
        assertThat(mounter.table().entries()).noneMatch(e -> e.mountPoint().startsWith(lookups));
    }

    @Test
    void publish_staticVolumeId_neverLooksUpARecord() {
        node.nodePublishVolume(publish("static-pv", target));
        assertThat(mounter.fake.mountCalls).hasSize(1);
        assertThat(optionsAt(target)).containsExactly("nfsvers=4.1,hard");
    }

    @Test
    void publish_csiDriverNfsVolumeId_neverLooksUpARecord() {
        node.nodePublishVolume(publish("nfs.example.com#exports#pv-a#pv-a", target));
        assertThat(mounter.fake.mountCalls).hasSize(1);
    }

    @Test
    void publish_ourVolumeWithoutARecord_mountsWithTheContext_andLeavesNoLookupMount() throws Exception {
        node.nodePublishVolume(publish(OURS, target));
        assertThat(mounter.fake.mountCalls).hasSize(2);
        assertThat(mounter.fake.mountCalls.getFirst().get(0)).isEqualTo("nfs.example.com:/exports");
        assertThat(mounter.fake.mountCalls.getFirst().get(3).split(",")).contains("ro");
        assertThat(optionsAt(target)).containsExactly("nfsvers=4.1,hard");
        assertLookupLeftNothing();
    }

    @Test
    void publish_ourModifiedVolume_mountsWithTheRecordsOptionsAndMode() throws Exception {
        mounter.record = String.join("\n", "mountOptions=nfsvers\\=4.1,hard",
                "current.mountOptions=hard,nfsvers\\=4.2,noac", "current.mountPermissions=0750",
                "parameter.mountPermissions=0770", "");
        node.nodePublishVolume(publish(OURS, target));
        assertThat(optionsAt(target)).containsExactly("hard,nfsvers=4.2,noac");
        assertThat((Integer) Files.getAttribute(target, "unix:mode") & 07777).isEqualTo(0750);
        assertLookupLeftNothing();
    }

    @Test
    void publish_withTheLookupOff_ourModifiedVolume_mountsWithTheContext_andNoLookupMount() throws Exception {
        csi.close();
        csi = new InProcessCsi(new NodeService("node-1", mounter, new BoundedIo(8), stateDir, Duration.ofSeconds(5),
                Duration.ofSeconds(2), Duration.ZERO, null, AllowedShares.NONE, false,
                new MutableClock(Instant.parse("2026-01-01T00:00:00Z"))));
        node = NodeGrpc.newBlockingStub(csi.channel()).withDeadlineAfter(30, TimeUnit.SECONDS);
        mounter.record = String.join("\n", "mountOptions=nfsvers\\=4.1,hard",
                "current.mountOptions=hard,nfsvers\\=4.2,noac", "current.mountPermissions=0750", "");
        node.nodePublishVolume(publish(OURS, target));
        assertThat(mounter.fake.mountCalls).hasSize(1);
        assertThat(optionsAt(target)).containsExactly("nfsvers=4.1,hard");
    }

    @Test
    void publish_ourVolumeWithADamagedRecord_mountsWithTheContext() throws Exception {
        mounter.record = "mountOptions=\\u12";
        node.nodePublishVolume(publish(OURS, target));
        assertThat(optionsAt(target)).containsExactly("nfsvers=4.1,hard");
        assertLookupLeftNothing();
    }
}
