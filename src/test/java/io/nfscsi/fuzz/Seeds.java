package io.nfscsi.fuzz;

import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The names and paths that generated requests are built from: the seed volume and snapshot that valid requests
 * name, the pod directories that targets go in, and the symlinks planted in the share and the kubelet directory,
 * which point at the sentinel tree that no call may touch.
 */
final class Seeds {

    static final String VOLUME = "seed-volume";
    static final String SNAPSHOT = "seed-snapshot";
    /** A symlink at the top of the share to the sentinel tree. */
    static final String ESCAPE_LINK = "escape";
    /** A symlink at the top of the share to a directory of the sentinel tree, as if it were a volume. */
    static final String LINK_VOLUME = "linkvol";
    static final String NODE = "node-1";
    static final int PODS = 3;

    private final Path kubelet;
    private final AtomicLong names = new AtomicLong();
    private volatile String volumeId = "";
    private volatile String snapshotId = "";

    Seeds(Path kubelet) {
        this.kubelet = kubelet;
    }

    Path kubelet() {
        return kubelet;
    }

    /** A pod's volume directory, which kubelet makes before it asks for a publish (the target's parent). */
    Path podDir(int i) {
        return kubelet.resolve("pods/pod-" + i + "/volumes/kubernetes.io~csi/pv-" + i);
    }

    /** Where the seed volume is published. */
    Path target() {
        return podDir(0).resolve("mount");
    }

    /** A target path that is a symlink to a directory of the sentinel tree. */
    Path plantedTarget() {
        return podDir(1).resolve("planted");
    }

    String uniqueName(String prefix) {
        return prefix + "-" + names.incrementAndGet();
    }

    String volumeId() {
        return volumeId;
    }

    String snapshotId() {
        return snapshotId;
    }

    void volumeId(String id) {
        volumeId = id;
    }

    void snapshotId(String id) {
        snapshotId = id;
    }
}
