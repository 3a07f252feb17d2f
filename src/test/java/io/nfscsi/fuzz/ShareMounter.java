package io.nfscsi.fuzz;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.MountTable;
import io.nfscsi.mount.Mounter;
import io.nfscsi.testing.FakeMounter;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.List;

/**
 * A {@link FakeMounter} whose controller mounts show the same directory for the same export, whatever the mount
 * options, as NFS does: the working mount point becomes a symlink to that export's local directory. Node mounts
 * (targets) stay plain directories, as in the fake.
 */
final class ShareMounter implements Mounter {

    private final FakeMounter fake = new FakeMounter();
    private final Path workingDir;
    private final Path exports;

    ShareMounter(Path workingDir, Path exports) {
        this.workingDir = workingDir;
        this.exports = exports;
    }

    /** The local directory that plays {@code source} (server:/export). */
    Path export(String source) {
        return exports.resolve(HexFormat.of().formatHex(source.getBytes(StandardCharsets.UTF_8), 0,
                Math.min(source.length(), 60)) + "-" + Integer.toHexString(source.hashCode()));
    }

    @Override
    public void mount(String source, Path target, String fsType, List<String> options, Deadline deadline)
            throws MountException {
        fake.mount(source, target, fsType, options, deadline);
        if (target.startsWith(workingDir)) {
            try {
                Path export = Files.createDirectories(export(source));
                Files.deleteIfExists(target);
                Files.createSymbolicLink(target, export);
            } catch (IOException e) {
                throw new MountException(MountException.Kind.FAILED, "fake mount of " + source + ": " + e);
            }
        }
    }

    @Override
    public void unmount(Path target, Deadline deadline) throws MountException {
        fake.unmount(target, deadline);
    }

    @Override
    public MountTable table() {
        return fake.table();
    }
}
