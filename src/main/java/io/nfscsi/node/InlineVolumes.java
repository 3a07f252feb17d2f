package io.nfscsi.node;

import io.nfscsi.error.CsiException;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.volume.AllowedShares;
import io.nfscsi.volume.NfsSource;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.regex.Pattern;

/**
 * Keeps inline (CSI ephemeral) volumes to the exports that {@code --inline-allowed-shares} names. An inline volume's
 * server and share come from the pod spec, so anyone who may create a pod could otherwise mount any export the node
 * reaches; a persistent volume's come from a PersistentVolume or a StorageClass, which an administrator made, and are
 * never checked.
 *
 * <p>A publish is inline when either says so:
 * <ul>
 *   <li>{@code volume_context} has {@code csi.storage.k8s.io/ephemeral} (any case) with a value other than
 *       {@code false}: kubelet sets it, over whatever the pod wrote, when the CSIDriver has
 *       {@code podInfoOnMount: true};</li>
 *   <li>{@code volume_id} is {@code csi-} and 64 lower-case hex digits: the handle kubelet makes for an inline volume
 *       (sha256 of the pod UID and the volume's name). This one holds without {@code podInfoOnMount}, where the
 *       marker is missing or, written by the pod's author, may say {@code false}. No volume that CreateVolume made
 *       has such an ID (ours start {@code nfs-csi:}, csi-driver-nfs's hold '#' or '/'); a static PersistentVolume
 *       whose volumeHandle has that form is checked as inline.</li>
 * </ul>
 *
 * <p>The check is on the path as named. A symbolic link on the server inside an allowed share leads elsewhere, and
 * both NFS versions follow it while mounting. NFSv4 mounts show the path they reached in the mount table, so that
 * path is checked again once mounted ({@link #checkMounted}); NFSv3 mounts show the path as asked, so a link is not
 * seen there.
 */
final class InlineVolumes {

    static final String FLAG = "--inline-allowed-shares";
    static final String EPHEMERAL = "csi.storage.k8s.io/ephemeral";
    private static final Pattern KUBELET_INLINE_ID = Pattern.compile("csi-[0-9a-f]{64}");

    private final AllowedShares allowed;

    InlineVolumes(AllowedShares allowed) {
        this.allowed = allowed;
    }

    static boolean isInline(String volumeId, Map<String, String> volumeContext) {
        if (KUBELET_INLINE_ID.matcher(volumeId).matches()) {
            return true;
        }
        return volumeContext.entrySet().stream().anyMatch(e -> e.getKey().equalsIgnoreCase(EPHEMERAL)
                && !e.getValue().strip().equalsIgnoreCase("false"));
    }

    /**
     * After the mount: refuses an inline volume whose mount the kernel shows at a path that no pattern allows (an
     * NFSv4 mount through a symbolic link on the server). Only the path is compared, under the server as asked: the
     * kernel may name an NFSv4 server after its first mount (client trunking).
     *
     * @param mounted the mount at the target, read only for an inline volume
     * @throws CsiException.PermissionDenied naming the flag and the path reached; the caller unmounts
     */
    void checkMounted(String volumeId, Map<String, String> volumeContext, NfsSource asked,
                      Supplier<Optional<MountEntry>> mounted) {
        if (!isInline(volumeId, volumeContext)) {
            return;
        }
        Optional<String> source = mounted.get().map(MountEntry::source);
        int slash = source.map(s -> s.indexOf('/')).orElse(-1);
        NfsSource reached;
        try {
            reached = slash < 0 ? null : new NfsSource(asked.server(), source.get().substring(slash));
        } catch (CsiException e) {
            reached = null;
        }
        if (reached != null && allowed.allowing(reached).isPresent()) {
            return;
        }
        throw new CsiException.PermissionDenied("inline volume " + volumeId + " of " + asked.format()
                + " refused: the mount reached " + source.orElse("nothing") + " (a symbolic link on the server?), "
                + "which no pattern of " + FLAG + " (" + allowed.format() + ") allows; unmounted");
    }

    /**
     * Refuses an inline publish of an export that no pattern allows.
     *
     * @throws CsiException.PermissionDenied naming the flag and the export
     */
    void check(String volumeId, Map<String, String> volumeContext, NfsSource source) {
        if (!isInline(volumeId, volumeContext) || allowed.allowing(source).isPresent()) {
            return;
        }
        if (allowed.isEmpty()) {
            throw new CsiException.PermissionDenied("inline volume " + volumeId + " of " + source.format()
                    + " refused: inline volumes are allowed only from the exports that " + FLAG
                    + " names, and it names none");
        }
        throw new CsiException.PermissionDenied("inline volume " + volumeId + " of " + source.format()
                + " refused: no pattern of " + FLAG + " (" + allowed.format() + ") allows it");
    }
}
