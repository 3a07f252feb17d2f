package io.nfscsi.volume;

import io.nfscsi.error.CsiException;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The volume attributes that the node mounts from: a static PersistentVolume's {@code csi.volumeAttributes}, or
 * the {@code volume_context} that CreateVolume returned. Keys are case-insensitive, as in csi-driver-nfs.
 *
 * @param source           the export to mount
 * @param mountOptions     the {@code mountOptions} attribute split into options (not yet merged with mount_flags)
 * @param mountPermissions mode for the mounted root, 0 for "leave as is"
 */
public record VolumeContext(NfsSource source, List<String> mountOptions, int mountPermissions) {

    public static final String SERVER = "server";
    public static final String SHARE = "share";
    public static final String SUB_DIR = "subDir";
    public static final String MOUNT_OPTIONS = "mountOptions";
    public static final String MOUNT_PERMISSIONS = "mountPermissions";
    /** Put in volume_context by CreateVolume (and by csi-driver-nfs); the node has no use for it. */
    public static final String ON_DELETE = "onDelete";

    /** Prefix of the keys that kubelet and csi-provisioner add (pod and PVC metadata); accepted and ignored. */
    public static final String KUBERNETES_PREFIX = "csi.storage.k8s.io/";

    private static final Set<String> KNOWN = Set.of(SERVER, SHARE, SUB_DIR, MOUNT_OPTIONS, MOUNT_PERMISSIONS, ON_DELETE)
            .stream().map(k -> k.toLowerCase(Locale.ROOT)).collect(java.util.stream.Collectors.toUnmodifiableSet());

    public VolumeContext {
        mountOptions = List.copyOf(mountOptions);
        if (mountPermissions < 0 || mountPermissions > 07777) {
            throw new CsiException.InvalidArgument("mountPermissions " + Integer.toOctalString(mountPermissions)
                    + " is not a file mode");
        }
    }

    /**
     * Reads {@code volume_context}.
     *
     * @throws CsiException.InvalidArgument naming the key that is unknown, missing or malformed
     */
    public static VolumeContext parse(Map<String, String> attributes) {
        String server = null;
        String share = null;
        String subDir = null;
        String options = null;
        int permissions = 0;
        for (var e : attributes.entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            String value = e.getValue();
            if (key.startsWith(KUBERNETES_PREFIX)) {
                continue;
            }
            if (!KNOWN.contains(key)) {
                throw new CsiException.InvalidArgument("volume_context has unknown key \"" + e.getKey()
                        + "\"; known: server, share, subDir, mountOptions, mountPermissions, onDelete and "
                        + KUBERNETES_PREFIX + "*");
            }
            switch (key) {
                case "server" -> server = value;
                case "share" -> share = value;
                case "subdir" -> subDir = value;
                case "mountoptions" -> options = value;
                case "mountpermissions" -> permissions = parseMode("volume_context.mountPermissions", value);
                case "ondelete" -> { } // the controller's business
                default -> throw new IllegalStateException(key);
            }
        }
        if (server == null || server.isEmpty()) {
            throw new CsiException.InvalidArgument("volume_context.server is required");
        }
        if (share == null || share.isEmpty()) {
            throw new CsiException.InvalidArgument("volume_context.share is required");
        }
        try {
            VolumeId.checkNotHidden("volume_context.subDir", subDir);
        } catch (VolumeId.InvalidException e) {
            throw new CsiException.InvalidArgument(e.getMessage());
        }
        List<String> opts = options == null ? List.of() : MountOptions.split("volume_context.mountOptions", options);
        return new VolumeContext(NfsSource.of(server, share, subDir), opts, permissions);
    }

    /** An octal mode such as {@code 0770} or {@code 2775}; empty means 0. */
    public static int parseMode(String field, String value) {
        String v = value.strip();
        if (v.isEmpty()) {
            return 0;
        }
        try {
            if (!v.matches("0*[0-7]{1,4}")) {
                throw new NumberFormatException();
            }
            int mode = Integer.parseInt(v, 8);
            if (mode < 0 || mode > 07777) {
                throw new NumberFormatException();
            }
            return mode;
        } catch (NumberFormatException e) {
            throw new CsiException.InvalidArgument(field + " \"" + NfsSource.printable(value)
                    + "\" is not an octal mode between 0 and 7777");
        }
    }
}
