package io.nfscsi.node;

import io.grpc.stub.StreamObserver;
import io.nfscsi.concurrent.Deadlines;
import io.nfscsi.concurrent.KeyedLocks;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.NodeGrpc;
import io.nfscsi.error.CsiException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.mount.Mounter;
import io.nfscsi.mount.Posix;
import io.nfscsi.posix.FsStats;
import io.nfscsi.volume.AllowedShares;
import io.nfscsi.volume.MountOptions;
import io.nfscsi.volume.RequestFields;
import io.nfscsi.volume.VolumeContext;
import io.nfscsi.volume.VolumeId;
import io.nfscsi.concurrent.Deadline;
import java.util.List;
import java.util.Optional;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;

/**
 * The CSI Node service. Each method checks its request in the order the spec lists the fields, takes the lock for
 * the volume, hands off to {@link Publisher} or {@link VolumeHealth}, and builds the reply. Staging is not offered:
 * an NFS mount has nothing to share between pods on a node.
 *
 * <p>The lock is per volume, not per (volume, target): whether a volume may be published at a second target
 * depends on its other publications on this node, so two publishes of one volume never run at once (the second is
 * ABORTED and kubelet retries it).
 */
public final class NodeService extends NodeGrpc.NodeImplBase {

    private final String nodeId;
    private final Duration mountTimeout;
    private final Duration statsTimeout;
    private final Publisher publisher;
    private final VolumeHealth health;
    private final InlineVolumes inline;
    private final Mounter mounter;
    /** Null with {@code --publish-record-lookup=false}. */
    private final RecordLookup records;
    private final KeyedLocks locks = new KeyedLocks();
    /** {@code --volume-usage=walk}: each volume's own usage; null reports the export's (statvfs). */
    private final UsageWalks walks;

    /**
     * @param io       runs file-system calls that may block on a dead server (stat, chmod) under their deadlines
     * @param stateDir where the node records which volume it published at which target; read and reconciled with
     *                 the mount table here, so that a restarted driver knows what the previous one published
     */
    public NodeService(String nodeId, Mounter mounter, BoundedIo io, Path stateDir, Duration mountTimeout,
                       Duration statsTimeout, Clock clock) {
        this(nodeId, mounter, io, stateDir, mountTimeout, statsTimeout, StatsCache.DEFAULT_TTL, clock);
    }

    /**
     * @param statsCacheTtl how long a volume's usage (bytes, inodes) is served from the last read; zero reads it on
     *                      every call. The volume's condition is checked on every call whatever this is.
     */
    public NodeService(String nodeId, Mounter mounter, BoundedIo io, Path stateDir, Duration mountTimeout,
                       Duration statsTimeout, Duration statsCacheTtl, Clock clock) {
        this(nodeId, mounter, io, stateDir, mountTimeout, statsTimeout, statsCacheTtl, null, AllowedShares.NONE,
                clock);
    }

    /**
     * @param usageWalkTtl  {@code --volume-usage=walk}: a volume's used bytes and inodes are those a walk of its
     *                      directory found, walked again in the background at most once per this TTL (see
     *                      {@link UsageWalks}); null reports the export's, as statvfs gives them
     * @param inlineAllowed the exports that inline (ephemeral) volumes may mount ({@code --inline-allowed-shares});
     *                      {@link AllowedShares#NONE} refuses every inline publish. Persistent volumes are never
     *                      checked (see {@link InlineVolumes}).
     */
    public NodeService(String nodeId, Mounter mounter, BoundedIo io, Path stateDir, Duration mountTimeout,
                       Duration statsTimeout, Duration statsCacheTtl, Duration usageWalkTtl,
                       AllowedShares inlineAllowed, Clock clock) {
        this(nodeId, mounter, io, stateDir, mountTimeout, statsTimeout, statsCacheTtl, usageWalkTtl, inlineAllowed,
                true, clock);
    }

    /**
     * @param recordLookup {@code --publish-record-lookup}: whether a publish of a volume this driver provisioned
     *                     reads its record on the share for what ControllerModifyVolume changed (see
     *                     {@link RecordLookup}); false publishes with the PV's volume_context only
     */
    public NodeService(String nodeId, Mounter mounter, BoundedIo io, Path stateDir, Duration mountTimeout,
                       Duration statsTimeout, Duration statsCacheTtl, Duration usageWalkTtl,
                       AllowedShares inlineAllowed, boolean recordLookup, Clock clock) {
        this.walks = usageWalkTtl == null ? null : UsageWalks.create(usageWalkTtl, clock);
        this.inline = new InlineVolumes(inlineAllowed);
        this.mounter = mounter;
        this.nodeId = nodeId;
        this.mountTimeout = mountTimeout;
        this.statsTimeout = statsTimeout;
        PublishedTargets targets = PublishedTargets.open(stateDir, mounter::table);
        this.publisher = new Publisher(mounter, io, targets);
        this.records = recordLookup ? new RecordLookup(mounter, io, stateDir) : null;
        this.health = new VolumeHealth(mounter, io, targets, clock,
                new StatsCache(statsCacheTtl, StatsCache.DEFAULT_MAX_ENTRIES, clock));
    }


    @Override
    public void nodePublishVolume(Csi.NodePublishVolumeRequest req,
                                  StreamObserver<Csi.NodePublishVolumeResponse> reply) {
        String volumeId = RequestFields.required("volume_id", req.getVolumeId());
        Path target = RequestFields.absolutePath("target_path", req.getTargetPath());
        if (!req.hasVolumeCapability()) {
            throw new CsiException.InvalidArgument("volume_capability is required");
        }
        Csi.VolumeCapability.MountVolume mount = RequestFields.mountCapability(req.getVolumeCapability(),
                "volume_capability");
        VolumeContext context = VolumeContext.parse(req.getVolumeContextMap());
        inline.check(volumeId, req.getVolumeContextMap(), context.source()); // after every field is known valid
        try (var _ = locks.acquire(volumeId, "volume " + volumeId)) {
            Deadline deadline = Deadlines.forCall(mountTimeout);
            publisher.publish(request(req, target, mount, context, deadline), deadline,
                    Deadlines.forCall(statsTimeout));
            try {
                inline.checkMounted(volumeId, req.getVolumeContextMap(), context.source(),
                        () -> mounter.table().at(target));
            } catch (CsiException.PermissionDenied e) {
                publisher.unpublish(volumeId, target, Deadlines.forCall(mountTimeout));
                throw e;
            }
        } finally {
            health.forget(target);
            forgetUsage(target);
        }
        reply.onNext(Csi.NodePublishVolumeResponse.getDefaultInstance());
        reply.onCompleted();
    }

    /**
     * What to mount: the capability's mount flags and the context's options, and the context's mode; for a volume
     * this driver provisioned, the options and mode its record holds now take their place, option by option
     * ({@link MountOptions#overlay}), so that a ControllerModifyVolume since the PV was made applies.
     */
    private Publisher.Request request(Csi.NodePublishVolumeRequest req, Path target,
                                      Csi.VolumeCapability.MountVolume mount, VolumeContext context,
                                      Deadline deadline) {
        List<String> flags = mount.getMountFlagsList();
        List<String> options = MountOptions.merge(flags, context.mountOptions(), req.getReadonly());
        int mode = context.mountPermissions();
        Optional<RecordLookup.Settings> recorded = records == null ? Optional.empty()
                : ownVolume(req.getVolumeId(), context).flatMap(id -> records.read(
                id, MountOptions.merge(flags, context.mountOptions(), true), deadline));
        if (recorded.isPresent()) {
            options = MountOptions.merge(List.of(), MountOptions.overlay(MountOptions.merge(flags,
                    context.mountOptions(), false), recorded.get().mountOptions()), req.getReadonly());
            mode = recorded.get().mountPermissions().orElse(mode);
        }
        return new Publisher.Request(req.getVolumeId(), target, context.source(), options, req.getReadonly(), mode,
                req.getVolumeCapability().getAccessMode().getMode());
    }

    /**
     * The volume's ID when this driver provisioned it (our format, for the export the context names): only such a
     * volume has a record. Static volumes and csi-driver-nfs volumes are never looked up.
     */
    private static Optional<VolumeId> ownVolume(String volumeId, VolumeContext context) {
        if (!volumeId.startsWith(VolumeId.PREFIX)) {
            return Optional.empty();
        }
        try {
            VolumeId id = VolumeId.parse(volumeId);
            return !id.legacy() && !id.name().isEmpty() && id.source().equals(context.source())
                    ? Optional.of(id) : Optional.empty();
        } catch (VolumeId.InvalidException e) {
            return Optional.empty();
        }
    }

    @Override
    public void nodeUnpublishVolume(Csi.NodeUnpublishVolumeRequest req,
                                    StreamObserver<Csi.NodeUnpublishVolumeResponse> reply) {
        String volumeId = RequestFields.required("volume_id", req.getVolumeId());
        Path target = RequestFields.absolutePath("target_path", req.getTargetPath());
        try (var _ = locks.acquire(volumeId, "volume " + volumeId)) {
            forgetUsage(target); // a walk holds directories open in the mount: stopped before the unmount
            publisher.unpublish(volumeId, target, Deadlines.forCall(mountTimeout));
        } finally {
            health.forget(target);
        }
        reply.onNext(Csi.NodeUnpublishVolumeResponse.getDefaultInstance());
        reply.onCompleted();
    }

    @Override
    public void nodeGetVolumeStats(Csi.NodeGetVolumeStatsRequest req,
                                   StreamObserver<Csi.NodeGetVolumeStatsResponse> reply) {
        String volumeId = RequestFields.required("volume_id", req.getVolumeId());
        Path path = VolumeHealth.volumePath(volumeId, RequestFields.required("volume_path", req.getVolumePath()));
        VolumeHealth.Report report = health.check(volumeId, path, Deadlines.forCall(statsTimeout));
        var response = Csi.NodeGetVolumeStatsResponse.newBuilder()
                .setVolumeCondition(Csi.VolumeCondition.newBuilder()
                        .setAbnormal(report.abnormal()).setMessage(report.message()));
        if (walks == null) {
            report.usage().ifPresent(s -> response
                    .addUsage(usage(Csi.VolumeUsage.Unit.BYTES, s.totalBytes(), s.availableBytes(), s.usedBytes()))
                    .addUsage(usage(Csi.VolumeUsage.Unit.INODES, s.totalInodes(), s.freeInodes(), s.usedInodes())));
        } else {
            report.usage().ifPresent(s -> walkedUsage(path, s, response));
        }
        reply.onNext(response.build());
        reply.onCompleted();
    }

    /**
     * {@code --volume-usage=walk}: the export's capacity and available space, the volume's own used figures, once a
     * walk has found them; until then no usage (never the export's used figures, which are not the volume's).
     */
    private void walkedUsage(Path path, FsStats export, Csi.NodeGetVolumeStatsResponse.Builder response) {
        walks.figure(path.toString(), path).ifPresent(f -> response
                .addUsage(usage(Csi.VolumeUsage.Unit.BYTES, export.totalBytes(), export.availableBytes(),
                        f.usage().bytes()))
                .addUsage(usage(Csi.VolumeUsage.Unit.INODES, export.totalInodes(), export.freeInodes(),
                        f.usage().inodes())));
    }

    private void forgetUsage(Path target) {
        if (walks != null) {
            walks.forget(target.toString());
        }
    }

    private static Csi.VolumeUsage usage(Csi.VolumeUsage.Unit unit, long total, long available, long used) {
        return Csi.VolumeUsage.newBuilder().setUnit(unit).setTotal(total).setAvailable(available).setUsed(used)
                .build();
    }

    @Override
    public void nodeGetInfo(Csi.NodeGetInfoRequest req, StreamObserver<Csi.NodeGetInfoResponse> reply) {
        reply.onNext(Csi.NodeGetInfoResponse.newBuilder().setNodeId(nodeId).build());
        reply.onCompleted();
    }

    @Override
    public void nodeGetCapabilities(Csi.NodeGetCapabilitiesRequest req,
                                    StreamObserver<Csi.NodeGetCapabilitiesResponse> reply) {
        var response = Csi.NodeGetCapabilitiesResponse.newBuilder();
        for (var type : new Csi.NodeServiceCapability.RPC.Type[] {
                Csi.NodeServiceCapability.RPC.Type.GET_VOLUME_STATS,
                Csi.NodeServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER,
                Csi.NodeServiceCapability.RPC.Type.VOLUME_CONDITION}) {
            response.addCapabilities(Csi.NodeServiceCapability.newBuilder()
                    .setRpc(Csi.NodeServiceCapability.RPC.newBuilder().setType(type)));
        }
        reply.onNext(response.build());
        reply.onCompleted();
    }

    @Override
    public void nodeStageVolume(Csi.NodeStageVolumeRequest req, StreamObserver<Csi.NodeStageVolumeResponse> reply) {
        throw new CsiException.Unimplemented("NodeStageVolume: this driver does not advertise STAGE_UNSTAGE_VOLUME");
    }

    @Override
    public void nodeUnstageVolume(Csi.NodeUnstageVolumeRequest req,
                                  StreamObserver<Csi.NodeUnstageVolumeResponse> reply) {
        throw new CsiException.Unimplemented("NodeUnstageVolume: this driver does not advertise STAGE_UNSTAGE_VOLUME");
    }

    @Override
    public void nodeExpandVolume(Csi.NodeExpandVolumeRequest req, StreamObserver<Csi.NodeExpandVolumeResponse> reply) {
        throw new CsiException.Unimplemented("NodeExpandVolume: an NFS directory needs no node-side expansion");
    }
}
