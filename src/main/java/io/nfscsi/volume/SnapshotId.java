package io.nfscsi.volume;

/**
 * The {@code snapshot_id} of a snapshot: the archive {@code <share>/<name>/<archive>.tar.gz} (or {@code .tar.zst},
 * {@code .tar}) on {@code server}, the layout csi-driver-nfs uses, so that snapshots of either driver restore with
 * the other.
 *
 * <h2>Our format</h2>
 * <pre>
 * nfs-csi-snapshot:1#nfs.example.com#/exports#snapshot-016f784f-56f4-44d1-9041-5f59e82dbce1#pvc-4bcbf944
 * version           #server         #share   #name (the snapshot's directory)                  #archive base
 * </pre>
 * The archive's base name is the source volume's name (else its subDir, when that has no '/'), as in csi-driver-nfs.
 * The compression is not in the ID: the file present on the share says it.
 *
 * <h2>csi-driver-nfs format</h2>
 * Five segments, {@code server#baseDir#name#name#source}, e.g.
 * {@code nfs-server.default.svc.cluster.local#share#snapshot-016f…#snapshot-016f…#pvc-4bcbf944…}: the share is
 * {@code "/" + baseDir}, the third and fourth segments are both the snapshot's name, the fifth the archive base.
 * {@link #legacy()} is then true and {@link #format()} returns the string parsed.
 *
 * <h2>How versions are told apart</h2>
 * An ID starting with {@code nfs-csi-snapshot:} is ours, with the version after the colon; only 1 is known. Any
 * other is read as csi-driver-nfs's. Every field is validated like a {@link VolumeId}'s: no {@code ..}, no '/' in
 * the name or archive base, no '#', no control character; failures are {@link VolumeId.InvalidException}s.
 *
 * @param server  the NFS server
 * @param share   absolute, normalized export path
 * @param name    the snapshot's directory below the share (the CSI snapshot name)
 * @param archive the archive's base name, without suffix
 * @param legacy  whether the ID is csi-driver-nfs's
 */
public record SnapshotId(String server, String share, String name, String archive, boolean legacy) {

    public static final String PREFIX = "nfs-csi-snapshot:";
    public static final int VERSION = 1;
    private static final String SEPARATOR = "#";

    public SnapshotId {
        VolumeId.checkServer(server);
        VolumeId.checkShare(share);
        checkSegment("name", name);
        checkSegment("archive", archive);
    }

    private static void checkSegment(String field, String value) {
        VolumeId.checkName(value);
        if (value.isEmpty()) {
            throw new VolumeId.InvalidException(field, "is required");
        }
        if (field.equals("name") && value.startsWith(".")) {
            throw new VolumeId.InvalidException(field, "\"" + value + "\" must not start with '.'");
        }
    }

    /** A new snapshot's ID, in our format. */
    public static SnapshotId create(String server, String share, String name, String archive) {
        return new SnapshotId(server, VolumeId.normalizeShare(share), name, archive, false);
    }

    /** @throws VolumeId.InvalidException naming the field that is wrong */
    public static SnapshotId parse(String id) {
        if (id == null || id.isEmpty()) {
            throw new VolumeId.InvalidException("snapshot_id", "is required");
        }
        String[] f = id.split(SEPARATOR, -1);
        if (id.startsWith(PREFIX)) {
            if (!f[0].equals(PREFIX + VERSION)) {
                throw new VolumeId.InvalidException("version", "\"" + f[0] + "\" is not a known snapshot ID version");
            }
            if (f.length != 5) {
                throw new VolumeId.InvalidException("snapshot_id", "has " + f.length + " segments; version 1 has 5");
            }
            return new SnapshotId(f[1], f[2], f[3], f[4], false);
        }
        if (f.length != 5) {
            throw new VolumeId.InvalidException("snapshot_id", "is neither ours nor csi-driver-nfs's (5 segments)");
        }
        if (!f[2].equals(f[3])) {
            throw new VolumeId.InvalidException("snapshot_id", "csi-driver-nfs IDs repeat the snapshot name");
        }
        String baseDir = f[1].replaceAll("^/+|/+$", "");
        return new SnapshotId(f[0], VolumeId.normalizeShare("/" + baseDir), f[2], f[4], true);
    }

    public String format() {
        if (legacy) {
            return String.join(SEPARATOR, server, share.substring(1), name, name, archive);
        }
        return String.join(SEPARATOR, PREFIX + VERSION, server, share, name, archive);
    }

    /** The share that holds the snapshot. */
    public NfsSource shareSource() {
        return NfsSource.of(server, share, null);
    }

    @Override
    public String toString() {
        return format();
    }
}
