package io.nfscsi.mount;

import java.nio.file.Path;
import java.util.List;
import java.util.Objects;

/**
 * One line of {@code /proc/self/mountinfo}, with escapes decoded.
 *
 * @param mountId       unique ID of the mount
 * @param parentId      ID of the parent mount
 * @param root          the directory of the file system that forms this mount's root
 * @param mountPoint    where it is mounted, relative to the process's root
 * @param mountOptions  per-mount options ({@code rw} or {@code ro}, {@code noatime}, ...)
 * @param fsType        file-system type, e.g. {@code nfs} or {@code nfs4}
 * @param source        the mount source, e.g. {@code 127.0.0.1:/export}
 * @param superOptions  per-super-block options (for NFS: {@code vers=}, {@code addr=}, ...)
 */
public record MountEntry(int mountId, int parentId, String root, Path mountPoint, List<String> mountOptions,
                         String fsType, String source, List<String> superOptions) {

    public MountEntry {
        Objects.requireNonNull(mountPoint, "mountPoint");
        mountOptions = List.copyOf(mountOptions);
        superOptions = List.copyOf(superOptions);
    }

    /** Whether writes through this mount are refused. */
    public boolean readOnly() {
        return mountOptions.contains("ro") || superOptions.contains("ro");
    }

    /** Whether the file system is one of the kernel NFS client's. */
    public boolean isNfs() {
        return fsType.equals("nfs") || fsType.equals("nfs4");
    }
}
