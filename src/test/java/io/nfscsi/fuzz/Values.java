package io.nfscsi.fuzz;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Field values that reach deep into the driver: IDs built from the parts of real ones with hostile pieces swapped
 * in, target paths below the fake kubelet directory, StorageClass-like maps with known keys. Which kind a field
 * gets is told by its proto field name, so that every message carrying, say, a {@code volume_id} gets IDs.
 *
 * <p>Target paths are always below the kubelet directory: NodeUnpublishVolume removes an empty target directory,
 * and these tests run as root on a real file system.
 */
final class Values {

    static final String SERVER = "nfs.example.com";
    static final String SHARE = "/exports";

    private static final List<String> SERVERS = List.of(SERVER, SERVER, SERVER, "10.0.0.1", "fd00::1", "[fd00::1]");
    private static final List<String> SHARES = List.of(SHARE, SHARE, SHARE, "/exports/", "/exports/sub", "/", "exports");
    /** subDirs of the seed share: the seed volume, planted symlinks that point at the sentinel tree. */
    private static final List<String> SUB_DIRS = List.of(Seeds.VOLUME, Seeds.VOLUME, "other", Seeds.ESCAPE_LINK,
            Seeds.ESCAPE_LINK + "/x", Seeds.LINK_VOLUME, "ns/pvc-1", "${pvc.metadata.namespace}/${pvc.metadata.name}",
            "${pv.metadata.name}", ".nfs-csi", "a/./b", "a//b");
    private static final List<String> ON_DELETE = List.of("delete", "retain", "archive", "Archive", "DELETE");
    private static final List<String> MODES = List.of("0", "0777", "777", "2775", "7777", "17777", "-1", "0o777",
            "0x1ff", "");
    private static final List<String> FLAGS = List.of("nfsvers=4.1", "vers=3", "hard", "soft", "ro", "rw", "nolock",
            "timeo=600", "sec=sys", "nfsvers=4.1,hard", "a=b=c", "bind", "remount", "", ",", "=", "-o", "--",
            "vers=4.1\0", "nosuid,nodev");
    private static final List<String> COMPRESSION = List.of("gzip", "zstd", "none", "GZIP", "lz4");
    private static final List<String> PARAMETER_KEYS = List.of("server", "share", "subDir", "mountPermissions",
            "onDelete", "mountOptions", "compression", "csi.storage.k8s.io/pv/name", "csi.storage.k8s.io/pvc/name",
            "csi.storage.k8s.io/pvc/namespace", "csi.storage.k8s.io/fstype", "SERVER", "subdir", "readOnly");

    private final Seeds seeds;

    Values(Seeds seeds) {
        this.seeds = seeds;
    }

    /** A value for the string field {@code field}; {@code Hostile.string} for fields without a special kind. */
    String forField(String field, Random r) {
        return switch (field) {
            case "volume_id", "source_volume_id" -> volumeId(r);
            case "snapshot_id" -> snapshotId(r);
            case "target_path", "staging_target_path", "volume_path" -> targetPath(r);
            case "name" -> r.nextInt(3) == 0 ? Hostile.string(r) : seeds.uniqueName("fuzz");
            case "starting_token" -> token(r);
            case "mount_flags" -> r.nextBoolean() ? Hostile.pick(r, FLAGS) : Hostile.string(r);
            case "node_id" -> r.nextBoolean() ? Seeds.NODE : Hostile.string(r);
            case "fs_type" -> r.nextBoolean() ? "nfs" : Hostile.string(r);
            default -> Hostile.string(r);
        };
    }

    /** A value of the parameter or volume-context key {@code key}. */
    String forKey(String key, Random r) {
        if (r.nextInt(4) == 0) {
            return Hostile.string(r);
        }
        return switch (key.toLowerCase(java.util.Locale.ROOT)) {
            case "server" -> Hostile.pick(r, SERVERS);
            case "share" -> Hostile.pick(r, SHARES);
            case "subdir" -> Hostile.pick(r, SUB_DIRS);
            case "ondelete" -> Hostile.pick(r, ON_DELETE);
            case "mountpermissions" -> Hostile.pick(r, MODES);
            case "mountoptions" -> Hostile.pick(r, FLAGS);
            case "compression" -> Hostile.pick(r, COMPRESSION);
            default -> r.nextBoolean() ? "pvc-" + r.nextInt(100) : Hostile.string(r);
        };
    }

    String key(Random r) {
        return switch (r.nextInt(4)) {
            case 0, 1 -> Hostile.pick(r, PARAMETER_KEYS);
            case 2 -> "csi.storage.k8s.io/" + Hostile.string(r);
            default -> Hostile.string(r);
        };
    }

    /** A map of known keys with plausible or hostile values; sometimes a huge one. */
    Map<String, String> map(Random r) {
        Map<String, String> m = new LinkedHashMap<>();
        int size = switch (r.nextInt(40)) {
            case 0 -> 100 + r.nextInt(900);
            case 1, 2, 3 -> 0;
            default -> 1 + r.nextInt(6);
        };
        for (int i = 0; i < size; i++) {
            if (size > 50 && i > 5) {
                // a huge map: mostly keys the driver passes over, so that the call gets past them
                m.put("csi.storage.k8s.io/k" + i, "v" + i);
            } else {
                String key = key(r);
                m.put(key, forKey(key, r));
            }
        }
        return m;
    }

    /** A volume ID: the seed's, a csi-driver-nfs form, or our format with some parts hostile. */
    String volumeId(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> seeds.volumeId();
            case 1 -> "nfs-csi:1#" + part(r, SERVERS) + "#" + part(r, SHARES) + "#" + part(r, SUB_DIRS) + "#"
                    + part(r, List.of(Seeds.VOLUME, "pvc-x")) + "#" + part(r, ON_DELETE);
            case 2 -> part(r, SERVERS) + "#" + part(r, List.of("exports", "", "exports/sub")) + "#"
                    + part(r, SUB_DIRS) + (r.nextBoolean() ? "#" + part(r, List.of(Seeds.VOLUME, "")) : "")
                    + (r.nextBoolean() ? "#" + part(r, ON_DELETE) : "");
            case 3 -> part(r, SERVERS) + "/" + part(r, List.of("exports", "exports/sub")) + "/" + part(r, SUB_DIRS);
            case 4 -> splice(r, seeds.volumeId());
            case 5 -> "nfs-csi:" + Hostile.pick(r, List.of("2", "0", "", "1a", "-1", "01")) + "#" + SERVER + "#"
                    + SHARE + "#" + Seeds.VOLUME + "#" + Seeds.VOLUME + "#delete";
            default -> Hostile.string(r);
        };
    }

    /** A snapshot ID: the seed's, csi-driver-nfs's form, or ours with some parts hostile. */
    String snapshotId(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> seeds.snapshotId();
            case 1 -> "nfs-csi-snapshot:1#" + part(r, SERVERS) + "#" + part(r, SHARES) + "#"
                    + part(r, List.of(Seeds.SNAPSHOT, Seeds.ESCAPE_LINK)) + "#" + part(r, List.of(Seeds.VOLUME));
            case 2 -> {
                String name = part(r, List.of(Seeds.SNAPSHOT, Seeds.ESCAPE_LINK));
                yield part(r, SERVERS) + "#" + part(r, List.of("exports", "")) + "#" + name + "#"
                        + (r.nextInt(4) == 0 ? Hostile.string(r) : name) + "#" + part(r, List.of(Seeds.VOLUME));
            }
            case 3 -> splice(r, seeds.snapshotId());
            default -> Hostile.string(r);
        };
    }

    /**
     * A path below the kubelet directory: a seed target, a new target in an existing pod directory, or one with
     * hostile segments (which the driver must refuse or keep inside).
     */
    String targetPath(Random r) {
        return switch (r.nextInt(6)) {
            case 0 -> seeds.target().toString();
            case 1 -> seeds.podDir(r.nextInt(Seeds.PODS)).resolve("mount" + r.nextInt(3)).toString();
            case 2 -> seeds.podDir(r.nextInt(Seeds.PODS)) + "/" + Hostile.string(r);
            case 3 -> seeds.kubelet() + "/pods/" + Hostile.string(r) + "/mount";
            case 4 -> seeds.plantedTarget().toString();
            default -> seeds.podDir(r.nextInt(Seeds.PODS)) + "/" + Hostile.string(r) + "/" + Hostile.string(r);
        };
    }

    /** A paging token: one of ours for either list, with a hostile last ID, or garbage. */
    String token(Random r) {
        String kind = Hostile.pick(r, List.of("volumes-after:", "snapshots-after:", "", "volumes-after"));
        return switch (r.nextInt(4)) {
            case 0 -> Base64.getUrlEncoder().withoutPadding().encodeToString(
                    (kind + Hostile.string(r)).getBytes(StandardCharsets.UTF_8));
            case 1 -> Base64.getUrlEncoder().withoutPadding().encodeToString(
                    (kind + seeds.volumeId()).getBytes(StandardCharsets.UTF_8));
            case 2 -> Base64.getEncoder().encodeToString(Hostile.string(r).getBytes(StandardCharsets.ISO_8859_1));
            default -> Hostile.string(r);
        };
    }

    /** A valid part most of the time, else a hostile one. */
    private static String part(Random r, List<String> valid) {
        return switch (r.nextInt(10)) {
            case 0, 1 -> Hostile.string(r);
            case 2 -> Hostile.pick(r, valid) + Hostile.pick(r, Hostile.PIECES);
            default -> Hostile.pick(r, valid);
        };
    }

    /** {@code valid} with a hostile piece inserted at a random place, sometimes replacing a few characters. */
    private static String splice(Random r, String valid) {
        int at = r.nextInt(valid.length() + 1);
        int cut = Math.min(valid.length() - at, r.nextInt(4));
        return valid.substring(0, at) + Hostile.pick(r, Hostile.PIECES) + valid.substring(at + cut);
    }
}
