package io.nfscsi.node;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.volume.NfsSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The node's records of its publications: written whole, read back after a restart, pruned by the mount table. */
class PublishedTargetsTest {

    @TempDir
    Path dir;
    final FakeMounter mounter = new FakeMounter();
    final NfsSource source = new NfsSource("nfs.example.com", "/exports/a");

    PublishedTargets.Publication mounted(Path target, Mode mode) throws Exception {
        Files.createDirectories(target);
        mounter.mount(source.format(), target, "nfs", List.of(), null);
        return new PublishedTargets.Publication(target, mode, false, source);
    }

    @ParameterizedTest
    @ValueSource(strings = {"vol-1", "127.0.0.1#exports#a##", "with = and : and \\ and #", "new\nline", "ünïcødé ✓",
            "  leading spaces"})
    void putThenReopen_returnsTheSamePublication(String volumeId) throws Exception {
        PublishedTargets.Publication p = mounted(dir.resolve("t"), Mode.SINGLE_NODE_WRITER);
        PublishedTargets.open(dir.resolve("state"), mounter::table).put(volumeId, p);

        PublishedTargets reopened = PublishedTargets.open(dir.resolve("state"), mounter::table);

        assertThat(reopened.of(volumeId)).containsExactly(p);
        assertThat(reopened.holderAt(p.target())).contains(new PublishedTargets.Holder(volumeId, p));
        assertThat(dir.resolve("state")).isDirectoryContaining(f -> f.getFileName().toString()
                .equals(PublishedTargets.fileName(volumeId)));
    }

    @Test
    void removeOfTheLastPublication_deletesTheRecord() throws Exception {
        PublishedTargets t = PublishedTargets.open(dir.resolve("state"), mounter::table);
        PublishedTargets.Publication p = mounted(dir.resolve("t"), Mode.SINGLE_NODE_MULTI_WRITER);
        t.put("v", p);
        t.remove("v", p.target());
        assertThat(dir.resolve("state")).isEmptyDirectory();
        assertThat(t.of("v")).isEmpty();
    }

    @Test
    void of_forgetsATargetMountedFromAnotherExport() throws Exception {
        PublishedTargets t = PublishedTargets.open(dir.resolve("state"), mounter::table);
        Path target = dir.resolve("t");
        PublishedTargets.Publication p = mounted(target, Mode.SINGLE_NODE_WRITER);
        t.put("v", p);
        mounter.unmount(target, null);
        mounter.mount("nfs.example.com:/exports/other", target, "nfs", List.of(), null);
        assertThat(t.of("v")).isEmpty();
        assertThat(t.holderAt(target)).isEmpty();
    }

    @Test
    void exclusive_followsTheSpecsAccessModes() {
        assertThat(List.of(Mode.values())).filteredOn(m -> m != Mode.UNRECOGNIZED)
                .filteredOn(PublishedTargets.Publication::exclusive)
                .containsExactlyInAnyOrder(Mode.SINGLE_NODE_WRITER, Mode.SINGLE_NODE_READER_ONLY,
                        Mode.SINGLE_NODE_SINGLE_WRITER);
    }
}
