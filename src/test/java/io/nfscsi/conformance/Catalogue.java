package io.nfscsi.conformance;

import static io.grpc.Status.Code.DEADLINE_EXCEEDED;
import static io.grpc.Status.Code.FAILED_PRECONDITION;
import static io.grpc.Status.Code.NOT_FOUND;
import static io.grpc.Status.Code.RESOURCE_EXHAUSTED;
import static io.grpc.Status.Code.UNAVAILABLE;

import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;

/**
 * The scenarios, in the order they run, written from the CSI spec v1.12.0 (each RPC's success, its idempotent
 * repeat, and each row of its error table, including the NodePublishVolume access-mode table) and from
 * docs/errors.md. Where they differ, the spec wins: a scenario states the spec's code even where the driver answers
 * otherwise today. The fault scenarios (a server that stops answering, one that refuses this node) come last,
 * because the shares they name stay known to the controller.
 *
 * <p>Rows of the spec's error tables that do not apply to this driver, and so have no scenario: every row of
 * ControllerPublishVolume, ControllerUnpublishVolume, NodeStageVolume and NodeUnstageVolume (not offered: their
 * scenarios expect UNIMPLEMENTED); CreateVolume's RESOURCE_EXHAUSTED for unsatisfiable topology (there is none;
 * the mount-failure RESOURCE_EXHAUSTED is an exclusion below); DeleteVolume's and DeleteSnapshot's "in use"
 * FAILED_PRECONDITION and DeleteSnapshot's group INVALID_ARGUMENT (volumes and snapshots are independent, there are
 * no groups); ControllerExpandVolume's FAILED_PRECONDITION (expansion is online).
 * NodeUnpublishVolume's NOT_FOUND is provoked only for a target where the node's records show another volume
 * mounted (docs/errors.md): the node cannot tell a volume that never existed from one unpublished already, and the
 * call must stay idempotent. CreateSnapshot's RESOURCE_EXHAUSTED for a full share is not provoked: it
 * needs a share filled to the brim.
 */
final class Catalogue {

    private Catalogue() {}

    /**
     * docs/errors.md rows that no scenario provokes, and why; most name the tests that provoke them instead
     * ({@link Exclusion#coveredBy}). {@link CatalogueTest} fails when a row is neither covered nor listed here. Rows
     * are matched by (RPC, code): CreateVolume's UNAVAILABLE for a snapshot that is not ready yet and ABORTED for a
     * fill still running are not provoked (they need an archive or tree that outlasts the call); the same codes are
     * provoked by an unreachable share and by a concurrent call.
     */
    static final List<Exclusion> EXCLUSIONS = List.of(
            new Exclusion("*", Status.Code.INTERNAL, "INTERNAL is for failures nobody foresaw (a chmod or a record "
                    + "write that the server refuses, an unmount that the kernel refuses); a cause the test bed "
                    + "could provoke on purpose ought to have its own code"),
            new Exclusion("NodeUnpublishVolume", DEADLINE_EXCEEDED, "needs umount2 itself to block past the "
                    + "deadline; the kernel answers MNT_FORCE and MNT_DETACH at once, even for a dead server"),
            Exclusion.coveredBy("NodePublishVolume", RESOURCE_EXHAUSTED, "needs 16 mounts hung on a stopped nfsd "
                    + "and a 10 s slot wait (the conformance bed's server must keep answering); the chmod ENOSPC of "
                    + "mountPermissions is mapped by the same MountException kind (NO_SPACE)",
                    "walkthrough.MountErrorCodesTest#everyMountSlotTaken_isResourceExhaustedWithRetryInfo",
                    "node.NodeServiceTest#publish_mountFailure_isMappedOnce_andLeavesNoTarget"),
            Exclusion.coveredBy("NodeUnpublishVolume", UNAVAILABLE, "needs a forced unmount and a lazy detach that "
                    + "both hang; the kernel answers both at once, even for a dead server",
                    "node.NodeServiceTest#unpublish_unmountHungOrNoSlot_isUnavailableOrResourceExhausted_"
                            + "andTheRetryUnpublishes"),
            Exclusion.coveredBy("NodeUnpublishVolume", RESOURCE_EXHAUSTED, "needs every slot for file-system "
                    + "calls held by calls blocked on a dead server",
                    "node.NodeServiceTest#unpublish_unmountHungOrNoSlot_isUnavailableOrResourceExhausted_"
                            + "andTheRetryUnpublishes"),
            Exclusion.coveredBy("CreateVolume", RESOURCE_EXHAUSTED, "a mount failure (every mount slot busy, or "
                    + "ENOSPC); needs 16 hung mounts, as for NodePublishVolume",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("DeleteVolume", RESOURCE_EXHAUSTED, "as for CreateVolume",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("DeleteSnapshot", RESOURCE_EXHAUSTED, "as for CreateVolume",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("ControllerModifyVolume", FAILED_PRECONDITION, "mountPermissions for a volume whose "
                    + "directory was replaced by a symbolic link on the server (or a damaged record): the bed's "
                    + "scenarios make volumes through the driver",
                    "controller.ControllerModifyVolumeTest#modify_mountPermissionsOnASymlinkedDirectory_isRefusedAndFollowsNothing"),
            Exclusion.coveredBy("DeleteSnapshot", FAILED_PRECONDITION, "a mount failure (stale file handle or "
                    + "read-only file system) of the snapshot's share; the bed's shares mount cleanly",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("GetCapacity", NOT_FOUND, "a mount failure: the given share's export does not exist",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("GetCapacity", FAILED_PRECONDITION, "a mount failure: a stale or read-only mount of the given share",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("GetCapacity", RESOURCE_EXHAUSTED, "a mount failure: every mount slot busy, as for CreateVolume",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("ListSnapshots", FAILED_PRECONDITION, "a mount failure: a stale or read-only mount of the snapshot's share",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare"),
            Exclusion.coveredBy("ListSnapshots", RESOURCE_EXHAUSTED, "a mount failure: every mount slot busy, as for CreateVolume",
                    "controller.ControllerServiceTest#mountFailure_isMappedOnce_forEveryCallThatMountsAShare")
    );

    static Expect e(String rpc, Status.Code code) {
        return new Expect(rpc, code);
    }

    static Scenario s(String name, String rpc, Status.Code code, Scenario.Body body) {
        return new Scenario(name, List.of(e(rpc, code)), body);
    }

    static Scenario s(String name, List<Expect> expects, Scenario.Body body) {
        return new Scenario(name, expects, body);
    }

    static List<Scenario> all() {
        List<Scenario> all = new ArrayList<>();
        all.addAll(NodeScenarios.identity());
        all.addAll(ControllerScenarios.createVolume());
        all.addAll(ControllerScenarios.deleteVolume());
        all.addAll(ControllerScenarios.validateAndExpand());
        all.addAll(ControllerScenarios.capacityAndLists());
        all.addAll(SnapshotScenarios.snapshots());
        all.addAll(SnapshotScenarios.sources());
        all.addAll(NodeScenarios.nodePublish());
        all.addAll(NodeScenarios.nodeUnpublishAndStats());
        all.addAll(NodeScenarios.lifecycle());
        all.addAll(FaultScenarios.faults());
        return all;
    }
}
