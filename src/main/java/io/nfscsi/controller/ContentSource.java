package io.nfscsi.controller;

import io.nfscsi.volume.SnapshotId;
import io.nfscsi.volume.VolumeId;

/** What a new volume is filled from: nothing, a snapshot's archive, or another volume's tree. */
sealed interface ContentSource {

    record None() implements ContentSource {}

    record FromSnapshot(SnapshotId snapshot) implements ContentSource {}

    record FromVolume(VolumeId volume) implements ContentSource {}

    ContentSource NONE = new None();

    /**
     * How records and claims keep the source, for telling a repeated CreateVolume from a different one: empty for
     * none, {@code snapshot:<snapshot_id>} or {@code volume:<volume_id>}.
     */
    default String key() {
        return switch (this) {
            case None none -> "";
            case FromSnapshot(SnapshotId s) -> "snapshot:" + s.format();
            case FromVolume(VolumeId v) -> "volume:" + v.format();
        };
    }

    /** For messages: "no content source" or the key. */
    static String describe(String key) {
        return key.isEmpty() ? "no content source" : key;
    }
}
