package io.nfscsi.fuzz;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.Message;
import io.grpc.Status;
import io.nfscsi.csi.v1.Csi;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.AfterProperty;
import net.jqwik.api.lifecycle.BeforeProperty;

/**
 * Up to {@value #TRIES} generated requests per RPC of Identity, Controller and Node against one driver per RPC (see
 * {@link FuzzBed}): every answer is OK or a caller's code, never UNKNOWN or INTERNAL; nothing outside the share,
 * the kubelet directory and the node's state changes; the server answers Probe afterwards. The counts go to the
 * reliability report ({@code bench/reliability}) as {@code RELIABILITY|6|…} lines.
 */
class RpcFuzzTest {

    static final int TRIES = 10_000;
    /**
     * How long all RPCs' requests may take together ({@code -Dnfscsi.fuzz.seconds}, default 240), so that the
     * package stays within five minutes on a loaded machine. Each RPC gets an equal share of what is left when
     * it starts, and at least a second: an RPC that sends its {@value #TRIES} requests early leaves its time to the
     * ones after it. An RPC whose requests do not fit its share sends fewer; its {@code requests tried} line says
     * how many.
     */
    static final long BUDGET_NANOS = TimeUnit.SECONDS.toNanos(Long.getLong("nfscsi.fuzz.seconds", 240));
    /** The least time an RPC gets, even when the ones before it overran the budget: every RPC is fuzzed. */
    private static final long FLOOR_NANOS = TimeUnit.SECONDS.toNanos(1);
    private static final int RPCS = (int) java.util.Arrays.stream(RpcFuzzTest.class.getDeclaredMethods())
            .filter(m -> m.isAnnotationPresent(Property.class)).count();
    private static long budgetStart;
    private static int rpcsLeft = RPCS;
    /** The sentinel tree is compared after every this many calls that may write, and after the last one. */
    private static final int CHECK_EVERY = 20;
    private static final Map<String, Tally> TALLIES = new ConcurrentHashMap<>();

    private FuzzBed bed;
    private Requests requests;
    private Mutator mutator;
    private Tally tally;
    private long budgetEnds;

    @BeforeProperty
    void start() throws Exception {
        bed = new FuzzBed();
        requests = new Requests(bed.seeds);
        mutator = new Mutator(new Values(bed.seeds));
        budgetEnds = share();
    }

    /** When this RPC's share of the budget ends: an equal part of what the RPCs before it left. */
    private static synchronized long share() {
        long now = System.nanoTime();
        if (budgetStart == 0) {
            budgetStart = now;
        }
        long left = Math.max(0, budgetStart + BUDGET_NANOS - now);
        return now + Math.max(FLOOR_NANOS, left / Math.max(1, rpcsLeft--));
    }

    @AfterProperty
    void stop() throws Exception {
        try {
            if (tally != null) {
                tally.crashed = !bed.probes();
                List<String> touched = bed.touchedOutside();
                if (!touched.isEmpty()) {
                    tally.touched(touched, Csi.ProbeRequest.getDefaultInstance());
                }
                System.out.println("RELIABILITY|6|" + tally.rpc + " requests tried|" + tally.tried);
                assertThat(tally.failed()).as(tally.report()).isFalse();
            }
        } finally {
            tally = null;
            bed.close();
        }
    }

    @AfterContainer
    static void totals() {
        var all = TALLIES.values();
        System.out.println("RELIABILITY|6|RPCs fuzzed|" + all.size());
        System.out.println("RELIABILITY|6|requests tried (all RPCs)|" + all.stream().mapToInt(t -> t.tried).sum());
        System.out.println("RELIABILITY|6|RPCs that sent fewer than " + TRIES + " requests in their share of "
                + TimeUnit.NANOSECONDS.toSeconds(BUDGET_NANOS) + " s|" + all.stream().filter(t -> t.tried < TRIES).count());
        System.out.println("RELIABILITY|6|UNKNOWN or INTERNAL answers|"
                + all.stream().mapToInt(t -> t.badAnswers).sum());
        System.out.println("RELIABILITY|6|calls without an answer within "
                + FuzzBed.CALL_DEADLINE.toSeconds() + " s|" + all.stream().mapToInt(t -> t.hung).sum());
        System.out.println("RELIABILITY|6|paths touched outside the share|"
                + all.stream().mapToInt(t -> t.touched).sum());
        System.out.println("RELIABILITY|6|crashes (Probe unanswered after an RPC's requests)|"
                + all.stream().filter(t -> t.crashed).count());
    }

    /** Sends {@code request}; checks the sentinel after calls that may write. */
    private <Q extends Message> void send(String rpc, Q request, Function<Q, ?> call, boolean writes) {
        if (tally == null) {
            tally = TALLIES.computeIfAbsent(rpc, Tally::new);
        }
        if (request == null) {
            return; // past this RPC's share of the time budget
        }
        Status status = FuzzBed.call(call, request);
        tally.answered(status, request);
        if (writes && tally.tried % CHECK_EVERY == 0) {
            List<String> touched = bed.touchedOutside();
            if (!touched.isEmpty()) {
                tally.touched(touched, request);
                bed.rebaseline();
            }
        }

    }

    /** Generated requests; null once the RPC's time budget is spent (the try then sends nothing). */
    private <Q extends Message> Arbitrary<Q> fuzzed(Function<Random, Q> base) {
        return Arbitraries.randomValue(r -> System.nanoTime() - budgetEnds > 0 ? null : mutator.mutate(base.apply(r), r));
    }

    // ---- Identity

    @Provide Arbitrary<Csi.GetPluginInfoRequest> getPluginInfo() {
        return fuzzed(r -> Csi.GetPluginInfoRequest.getDefaultInstance());
    }

    @Property(tries = TRIES)
    void getPluginInfo(@ForAll("getPluginInfo") Csi.GetPluginInfoRequest q) {
        send("GetPluginInfo", q, bed.identity()::getPluginInfo, false);
    }

    @Provide Arbitrary<Csi.GetPluginCapabilitiesRequest> getPluginCapabilities() {
        return fuzzed(r -> Csi.GetPluginCapabilitiesRequest.getDefaultInstance());
    }

    @Property(tries = TRIES)
    void getPluginCapabilities(@ForAll("getPluginCapabilities") Csi.GetPluginCapabilitiesRequest q) {
        send("GetPluginCapabilities", q, bed.identity()::getPluginCapabilities, false);
    }

    @Provide Arbitrary<Csi.ProbeRequest> probe() {
        return fuzzed(r -> Csi.ProbeRequest.getDefaultInstance());
    }

    @Property(tries = TRIES)
    void probe(@ForAll("probe") Csi.ProbeRequest q) {
        send("Probe", q, bed.identity()::probe, false);
    }

    // ---- Controller

    @Provide Arbitrary<Csi.CreateVolumeRequest> createVolume() {
        return fuzzed(r -> requests.createVolume(r));
    }

    @Property(tries = TRIES)
    void createVolume(@ForAll("createVolume") Csi.CreateVolumeRequest q) {
        send("CreateVolume", q, bed.controller()::createVolume, true);
    }

    @Provide Arbitrary<Csi.DeleteVolumeRequest> deleteVolume() {
        return fuzzed(r -> requests.deleteVolume(r));
    }

    @Property(tries = TRIES)
    void deleteVolume(@ForAll("deleteVolume") Csi.DeleteVolumeRequest q) {
        send("DeleteVolume", q, bed.controller()::deleteVolume, true);
    }

    @Provide Arbitrary<Csi.ControllerPublishVolumeRequest> controllerPublishVolume() {
        return fuzzed(r -> requests.controllerPublishVolume(r));
    }

    @Property(tries = TRIES)
    void controllerPublishVolume(@ForAll("controllerPublishVolume") Csi.ControllerPublishVolumeRequest q) {
        send("ControllerPublishVolume", q, bed.controller()::controllerPublishVolume, false);
    }

    @Provide Arbitrary<Csi.ControllerUnpublishVolumeRequest> controllerUnpublishVolume() {
        return fuzzed(r -> requests.controllerUnpublishVolume(r));
    }

    @Property(tries = TRIES)
    void controllerUnpublishVolume(@ForAll("controllerUnpublishVolume") Csi.ControllerUnpublishVolumeRequest q) {
        send("ControllerUnpublishVolume", q, bed.controller()::controllerUnpublishVolume, false);
    }

    @Provide Arbitrary<Csi.ValidateVolumeCapabilitiesRequest> validateVolumeCapabilities() {
        return fuzzed(r -> requests.validateVolumeCapabilities(r));
    }

    @Property(tries = TRIES)
    void validateVolumeCapabilities(@ForAll("validateVolumeCapabilities") Csi.ValidateVolumeCapabilitiesRequest q) {
        send("ValidateVolumeCapabilities", q, bed.controller()::validateVolumeCapabilities, false);
    }

    @Provide Arbitrary<Csi.ListVolumesRequest> listVolumes() {
        return fuzzed(r -> requests.listVolumes(r));
    }

    @Property(tries = TRIES)
    void listVolumes(@ForAll("listVolumes") Csi.ListVolumesRequest q) {
        send("ListVolumes", q, bed.controller()::listVolumes, false);
    }

    @Provide Arbitrary<Csi.GetCapacityRequest> getCapacity() {
        return fuzzed(r -> requests.getCapacity(r));
    }

    @Property(tries = TRIES)
    void getCapacity(@ForAll("getCapacity") Csi.GetCapacityRequest q) {
        send("GetCapacity", q, bed.controller()::getCapacity, false);
    }

    @Provide Arbitrary<Csi.ControllerGetCapabilitiesRequest> controllerGetCapabilities() {
        return fuzzed(r -> Csi.ControllerGetCapabilitiesRequest.getDefaultInstance());
    }

    @Property(tries = TRIES)
    void controllerGetCapabilities(@ForAll("controllerGetCapabilities") Csi.ControllerGetCapabilitiesRequest q) {
        send("ControllerGetCapabilities", q, bed.controller()::controllerGetCapabilities, false);
    }

    @Provide Arbitrary<Csi.CreateSnapshotRequest> createSnapshot() {
        return fuzzed(r -> requests.createSnapshot(r));
    }

    @Property(tries = TRIES)
    void createSnapshot(@ForAll("createSnapshot") Csi.CreateSnapshotRequest q) {
        send("CreateSnapshot", q, bed.controller()::createSnapshot, true);
    }

    @Provide Arbitrary<Csi.DeleteSnapshotRequest> deleteSnapshot() {
        return fuzzed(r -> requests.deleteSnapshot(r));
    }

    @Property(tries = TRIES)
    void deleteSnapshot(@ForAll("deleteSnapshot") Csi.DeleteSnapshotRequest q) {
        send("DeleteSnapshot", q, bed.controller()::deleteSnapshot, true);
    }

    @Provide Arbitrary<Csi.ListSnapshotsRequest> listSnapshots() {
        return fuzzed(r -> requests.listSnapshots(r));
    }

    @Property(tries = TRIES)
    void listSnapshots(@ForAll("listSnapshots") Csi.ListSnapshotsRequest q) {
        send("ListSnapshots", q, bed.controller()::listSnapshots, false);
    }

    @Provide Arbitrary<Csi.GetSnapshotRequest> getSnapshot() {
        return fuzzed(r -> requests.getSnapshot(r));
    }

    @Property(tries = TRIES)
    void getSnapshot(@ForAll("getSnapshot") Csi.GetSnapshotRequest q) {
        send("GetSnapshot", q, bed.controller()::getSnapshot, false);
    }

    @Provide Arbitrary<Csi.ControllerExpandVolumeRequest> controllerExpandVolume() {
        return fuzzed(r -> requests.controllerExpandVolume(r));
    }

    @Property(tries = TRIES)
    void controllerExpandVolume(@ForAll("controllerExpandVolume") Csi.ControllerExpandVolumeRequest q) {
        send("ControllerExpandVolume", q, bed.controller()::controllerExpandVolume, true);
    }

    @Provide Arbitrary<Csi.ControllerGetVolumeRequest> controllerGetVolume() {
        return fuzzed(r -> requests.controllerGetVolume(r));
    }

    @Property(tries = TRIES)
    void controllerGetVolume(@ForAll("controllerGetVolume") Csi.ControllerGetVolumeRequest q) {
        send("ControllerGetVolume", q, bed.controller()::controllerGetVolume, false);
    }

    @Provide Arbitrary<Csi.ControllerModifyVolumeRequest> controllerModifyVolume() {
        return fuzzed(r -> requests.controllerModifyVolume(r));
    }

    @Property(tries = TRIES)
    void controllerModifyVolume(@ForAll("controllerModifyVolume") Csi.ControllerModifyVolumeRequest q) {
        send("ControllerModifyVolume", q, bed.controller()::controllerModifyVolume, true);
    }

    // ---- Node

    @Provide Arbitrary<Csi.NodeStageVolumeRequest> nodeStageVolume() {
        return fuzzed(r -> requests.nodeStageVolume(r));
    }

    @Property(tries = TRIES)
    void nodeStageVolume(@ForAll("nodeStageVolume") Csi.NodeStageVolumeRequest q) {
        send("NodeStageVolume", q, bed.node()::nodeStageVolume, true);
    }

    @Provide Arbitrary<Csi.NodeUnstageVolumeRequest> nodeUnstageVolume() {
        return fuzzed(r -> requests.nodeUnstageVolume(r));
    }

    @Property(tries = TRIES)
    void nodeUnstageVolume(@ForAll("nodeUnstageVolume") Csi.NodeUnstageVolumeRequest q) {
        send("NodeUnstageVolume", q, bed.node()::nodeUnstageVolume, true);
    }

    @Provide Arbitrary<Csi.NodePublishVolumeRequest> nodePublishVolume() {
        return fuzzed(r -> requests.nodePublishVolume(r));
    }

    @Property(tries = TRIES)
    void nodePublishVolume(@ForAll("nodePublishVolume") Csi.NodePublishVolumeRequest q) throws Exception {
        bed.restorePodDirs();
        send("NodePublishVolume", q, bed.node()::nodePublishVolume, true);
    }

    @Provide Arbitrary<Csi.NodeUnpublishVolumeRequest> nodeUnpublishVolume() {
        return fuzzed(r -> requests.nodeUnpublishVolume(r));
    }

    @Property(tries = TRIES)
    void nodeUnpublishVolume(@ForAll("nodeUnpublishVolume") Csi.NodeUnpublishVolumeRequest q) throws Exception {
        bed.restorePodDirs();
        send("NodeUnpublishVolume", q, bed.node()::nodeUnpublishVolume, true);
    }

    @Provide Arbitrary<Csi.NodeGetVolumeStatsRequest> nodeGetVolumeStats() {
        return fuzzed(r -> requests.nodeGetVolumeStats(r));
    }

    @Property(tries = TRIES)
    void nodeGetVolumeStats(@ForAll("nodeGetVolumeStats") Csi.NodeGetVolumeStatsRequest q) {
        send("NodeGetVolumeStats", q, bed.node()::nodeGetVolumeStats, false);
    }

    @Provide Arbitrary<Csi.NodeExpandVolumeRequest> nodeExpandVolume() {
        return fuzzed(r -> requests.nodeExpandVolume(r));
    }

    @Property(tries = TRIES)
    void nodeExpandVolume(@ForAll("nodeExpandVolume") Csi.NodeExpandVolumeRequest q) {
        send("NodeExpandVolume", q, bed.node()::nodeExpandVolume, false);
    }

    @Provide Arbitrary<Csi.NodeGetCapabilitiesRequest> nodeGetCapabilities() {
        return fuzzed(r -> Csi.NodeGetCapabilitiesRequest.getDefaultInstance());
    }

    @Property(tries = TRIES)
    void nodeGetCapabilities(@ForAll("nodeGetCapabilities") Csi.NodeGetCapabilitiesRequest q) {
        send("NodeGetCapabilities", q, bed.node()::nodeGetCapabilities, false);
    }

    @Provide Arbitrary<Csi.NodeGetInfoRequest> nodeGetInfo() {
        return fuzzed(r -> Csi.NodeGetInfoRequest.getDefaultInstance());
    }

    @Property(tries = TRIES)
    void nodeGetInfo(@ForAll("nodeGetInfo") Csi.NodeGetInfoRequest q) {
        send("NodeGetInfo", q, bed.node()::nodeGetInfo, false);
    }
}
