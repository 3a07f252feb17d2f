package io.nfscsi.controller;

import io.nfscsi.volume.SnapshotId;
import io.nfscsi.volume.VolumeId;

/** What a new volume is filled from: nothing, a snapshot's archive, or another volume's tree. */
sealed interface ContentSource {

    record None() implements ContentSource {}

    record FromSnapshot(SnapshotId snapshot) implements ContentSource {}

    record FromVolume(VolumeId volume) implements ContentSource {}

    ContentSource NONE = new None();
}
