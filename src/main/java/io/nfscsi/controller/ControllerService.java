package io.nfscsi.controller;

import io.grpc.Deadline;
import io.grpc.stub.StreamObserver;
import io.nfscsi.concurrent.Deadlines;
import io.nfscsi.concurrent.KeyedLocks;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.error.CsiException;
import io.nfscsi.volume.MountOptions;
import io.nfscsi.volume.NfsSource;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.RequestFields;
import io.nfscsi.volume.VolumeId;
import io.nfscsi.volume.VolumeParameters;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.nio.charset.StandardCharsets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The CSI Controller service. Each method reads its request in the spec's field order, takes the lock for the
 * volume name or ID (a second call meanwhile is ABORTED), hands off to {@link Provisioner}, and builds the reply.
 */
public final class ControllerService extends ControllerGrpc.ControllerImplBase {

    private static final Logger log = LoggerFactory.getLogger(ControllerService.class);
    /** The most any controller call may take when its caller set no deadline. */
    private static final Duration UNBOUNDED_CALL = Duration.ofMinutes(10);
    /** csi-driver-nfs reads DeleteVolume's mount options from this secret; honoured for volumes without a record. */
    private static final String MOUNT_OPTIONS_SECRET = "mountoptions";

    private static final List<Csi.ControllerServiceCapability.RPC.Type> CAPABILITIES = List.of(
            Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_VOLUME,
            Csi.ControllerServiceCapability.RPC.Type.EXPAND_VOLUME,
            Csi.ControllerServiceCapability.RPC.Type.GET_CAPACITY,
            Csi.ControllerServiceCapability.RPC.Type.LIST_VOLUMES,
            Csi.ControllerServiceCapability.RPC.Type.GET_VOLUME,
            Csi.ControllerServiceCapability.RPC.Type.VOLUME_CONDITION,
            Csi.ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER);

    private final Provisioner provisioner;
    private final OnDelete defaultOnDelete;
    private final Runnable onShutdown;
    private final KeyedLocks locks = new KeyedLocks();

    ControllerService(Provisioner provisioner, OnDelete defaultOnDelete, Runnable onShutdown) {
        this.provisioner = provisioner;
        this.defaultOnDelete = defaultOnDelete;
        this.onShutdown = onShutdown;
    }

    /** The controller of a driver started with these settings. */
    public static ControllerService create(ControllerSettings settings) {
        SharePool pool = settings.pool();
        return new ControllerService(new Provisioner(pool, settings.io(), settings.clock(), settings.defaultOnDelete(),
                settings.mountTimeout(), settings.deleteParallelism()), settings.defaultOnDelete(), pool::closeIdle);
    }

    /** Unmounts the shares the controller mounted; call once the server has stopped taking calls. */
    public void shutdown() {
        onShutdown.run();
    }

    @Override
    public void createVolume(Csi.CreateVolumeRequest req, StreamObserver<Csi.CreateVolumeResponse> reply) {
        String name = RequestFields.required("name", req.getName());
        long capacity = capacity(req.hasCapacityRange() ? req.getCapacityRange() : null);
        List<String> mountFlags = capabilities("volume_capabilities", req.getVolumeCapabilitiesList());
        VolumeParameters params = VolumeParameters.parse(req.getParametersMap(), name, defaultOnDelete);
        if (req.hasVolumeContentSource()) {
            throw new CsiException.InvalidArgument("volume_content_source: snapshots and clones are not supported yet");
        }
        if (req.getMutableParametersCount() > 0) {
            throw new CsiException.InvalidArgument("mutable_parameters: MODIFY_VOLUME is not supported");
        }
        Provisioner.Created created;
        try (var lock = locks.acquire("name\0" + name, "volume name " + name)) {
            created = provisioner.create(name, params, mountFlags, capacity, deadline());
        }
        reply.onNext(Csi.CreateVolumeResponse.newBuilder().setVolume(Csi.Volume.newBuilder()
                .setVolumeId(created.id().format())
                .setCapacityBytes(created.capacityBytes())
                .putAllVolumeContext(created.volumeContext())).build());
        reply.onCompleted();
    }

    @Override
    public void deleteVolume(Csi.DeleteVolumeRequest req, StreamObserver<Csi.DeleteVolumeResponse> reply) {
        String raw = RequestFields.required("volume_id", req.getVolumeId());
        Optional<VolumeId> id = parse(raw);
        if (id.isEmpty()) {
            log.warn("DeleteVolume of malformed volume_id {}: treated as already deleted", raw);
        } else {
            List<String> fallback = List.of();
            for (var secret : req.getSecretsMap().entrySet()) {
                if (secret.getKey().toLowerCase(Locale.ROOT).equals(MOUNT_OPTIONS_SECRET)) {
                    fallback = MountOptions.split("secrets.mountOptions", secret.getValue());
                }
            }
            try (var lock = locks.acquire("id\0" + raw, "volume " + raw)) {
                provisioner.delete(id.get(), fallback, deadline());
            }
        }
        reply.onNext(Csi.DeleteVolumeResponse.getDefaultInstance());
        reply.onCompleted();
    }

    @Override
    public void validateVolumeCapabilities(Csi.ValidateVolumeCapabilitiesRequest req,
                                           StreamObserver<Csi.ValidateVolumeCapabilitiesResponse> reply) {
        String raw = RequestFields.required("volume_id", req.getVolumeId());
        if (req.getVolumeCapabilitiesCount() == 0) {
            throw new CsiException.InvalidArgument("volume_capabilities is required");
        }
        VolumeId id = parse(raw).orElseThrow(() -> new CsiException.NotFound("volume " + raw
                + " does not exist: the ID is not one this driver made"));
        provisioner.existing(id, deadline());
        var response = Csi.ValidateVolumeCapabilitiesResponse.newBuilder();
        Optional<String> unsupported = unsupported(req.getVolumeCapabilitiesList());
        if (unsupported.isPresent()) {
            response.setMessage(unsupported.get());
        } else {
            response.setConfirmed(Csi.ValidateVolumeCapabilitiesResponse.Confirmed.newBuilder()
                    .addAllVolumeCapabilities(req.getVolumeCapabilitiesList())
                    .putAllVolumeContext(req.getVolumeContextMap())
                    .putAllParameters(req.getParametersMap()));
        }
        reply.onNext(response.build());
        reply.onCompleted();
    }

    @Override
    public void controllerExpandVolume(Csi.ControllerExpandVolumeRequest req,
                                       StreamObserver<Csi.ControllerExpandVolumeResponse> reply) {
        String raw = RequestFields.required("volume_id", req.getVolumeId());
        if (!req.hasCapacityRange()) {
            throw new CsiException.InvalidArgument("capacity_range is required");
        }
        long required = capacity(req.getCapacityRange());
        VolumeId id = parse(raw).orElseThrow(() -> new CsiException.NotFound("volume " + raw + " does not exist"));
        long granted;
        try (var lock = locks.acquire("id\0" + raw, "volume " + raw)) {
            granted = provisioner.expand(id, required, deadline());
        }
        reply.onNext(Csi.ControllerExpandVolumeResponse.newBuilder().setCapacityBytes(granted)
                .setNodeExpansionRequired(false).build());
        reply.onCompleted();
    }

    @Override
    public void getCapacity(Csi.GetCapacityRequest req, StreamObserver<Csi.GetCapacityResponse> reply) {
        List<String> flags = capabilities("volume_capabilities", req.getVolumeCapabilitiesList(), true);
        String server = null;
        String share = null;
        for (var p : req.getParametersMap().entrySet()) {
            switch (p.getKey().toLowerCase(Locale.ROOT)) {
                case "server" -> server = p.getValue();
                case "share" -> share = p.getValue();
                default -> { } // the other StorageClass parameters do not change a share's free space
            }
        }
        if (server == null || server.isEmpty() || share == null || share.isEmpty()) {
            throw new CsiException.InvalidArgument("parameters.server and parameters.share are required: "
                    + "capacity is that of an NFS share");
        }
        long available = provisioner.capacity(NfsSource.of(server, share, null), flags, deadline());
        reply.onNext(Csi.GetCapacityResponse.newBuilder().setAvailableCapacity(available).build());
        reply.onCompleted();
    }

    @Override
    public void listVolumes(Csi.ListVolumesRequest req, StreamObserver<Csi.ListVolumesResponse> reply) {
        if (req.getMaxEntries() < 0) {
            throw new CsiException.InvalidArgument("max_entries must not be negative");
        }
        List<Provisioner.Listed> all = provisioner.list(deadline());
        int start = 0;
        if (!req.getStartingToken().isEmpty()) {
            String after = decodeToken(req.getStartingToken());
            start = -1;
            for (int i = 0; i < all.size(); i++) {
                if (all.get(i).id().format().equals(after)) {
                    start = i + 1;
                    break;
                }
            }
            if (start < 0) {
                throw new CsiException.Aborted("starting_token is stale: the volume it points after is gone");
            }
        }
        int end = req.getMaxEntries() == 0 ? all.size() : Math.min(all.size(), start + req.getMaxEntries());
        var response = Csi.ListVolumesResponse.newBuilder();
        for (Provisioner.Listed v : all.subList(start, end)) {
            response.addEntries(Csi.ListVolumesResponse.Entry.newBuilder()
                    .setVolume(volume(v))
                    .setStatus(Csi.ListVolumesResponse.VolumeStatus.newBuilder()
                            .setVolumeCondition(condition(v))));
        }
        if (end < all.size()) {
            response.setNextToken(encodeToken(all.get(end - 1).id().format()));
        }
        reply.onNext(response.build());
        reply.onCompleted();
    }

    @Override
    public void controllerGetVolume(Csi.ControllerGetVolumeRequest req,
                                    StreamObserver<Csi.ControllerGetVolumeResponse> reply) {
        String raw = RequestFields.required("volume_id", req.getVolumeId());
        VolumeId id = parse(raw).orElseThrow(() -> new CsiException.NotFound("volume " + raw + " does not exist"));
        Provisioner.Listed v = provisioner.get(id, deadline());
        reply.onNext(Csi.ControllerGetVolumeResponse.newBuilder().setVolume(volume(v))
                .setStatus(Csi.ControllerGetVolumeResponse.VolumeStatus.newBuilder()
                        .setVolumeCondition(condition(v))).build());
        reply.onCompleted();
    }

    @Override
    public void controllerGetCapabilities(Csi.ControllerGetCapabilitiesRequest req,
                                          StreamObserver<Csi.ControllerGetCapabilitiesResponse> reply) {
        var response = Csi.ControllerGetCapabilitiesResponse.newBuilder();
        for (var type : CAPABILITIES) {
            response.addCapabilities(Csi.ControllerServiceCapability.newBuilder()
                    .setRpc(Csi.ControllerServiceCapability.RPC.newBuilder().setType(type)));
        }
        reply.onNext(response.build());
        reply.onCompleted();
    }

    private static Csi.Volume volume(Provisioner.Listed v) {
        return Csi.Volume.newBuilder().setVolumeId(v.id().format()).setCapacityBytes(v.capacityBytes())
                .putAllVolumeContext(v.volumeContext()).build();
    }

    private static Csi.VolumeCondition condition(Provisioner.Listed v) {
        return Csi.VolumeCondition.newBuilder().setAbnormal(v.abnormal()).setMessage(v.message()).build();
    }

    private static Optional<VolumeId> parse(String raw) {
        try {
            return Optional.of(VolumeId.parse(raw));
        } catch (VolumeId.InvalidException e) {
            log.debug("volume_id {} is not valid: {}", raw, e.getMessage());
            return Optional.empty();
        }
    }

    /** required_bytes, else limit_bytes, else 0; a negative value or a limit below the requirement is refused. */
    static long capacity(Csi.CapacityRange range) {
        if (range == null) {
            return 0;
        }
        long required = range.getRequiredBytes();
        long limit = range.getLimitBytes();
        if (required < 0 || limit < 0) {
            throw new CsiException.InvalidArgument("capacity_range must not be negative");
        }
        if (limit > 0 && required > limit) {
            throw new CsiException.InvalidArgument("capacity_range.limit_bytes " + limit
                    + " is below required_bytes " + required);
        }
        return required > 0 ? required : limit;
    }

    private static List<String> capabilities(String field, List<Csi.VolumeCapability> caps) {
        return capabilities(field, caps, false);
    }

    /** Validates each capability (mount access, a known mode) and returns the union of their mount flags. */
    private static List<String> capabilities(String field, List<Csi.VolumeCapability> caps, boolean optional) {
        if (caps.isEmpty() && !optional) {
            throw new CsiException.InvalidArgument(field + " is required");
        }
        Set<String> flags = new LinkedHashSet<>();
        for (int i = 0; i < caps.size(); i++) {
            Csi.VolumeCapability.MountVolume mount = RequestFields.mountCapability(caps.get(i), field + "[" + i + "]");
            flags.addAll(MountOptions.merge(mount.getMountFlagsList(), List.of(), false));
        }
        return new ArrayList<>(flags);
    }

    /** Why the capabilities cannot be confirmed, if they cannot. */
    private static Optional<String> unsupported(List<Csi.VolumeCapability> caps) {
        for (Csi.VolumeCapability cap : caps) {
            if (cap.hasBlock()) {
                return Optional.of("block access is not supported: NFS volumes are file systems");
            }
            if (!cap.hasMount()) {
                return Optional.of("a capability has no access type; only mount is supported");
            }
            var mode = cap.getAccessMode().getMode();
            if (mode == Csi.VolumeCapability.AccessMode.Mode.UNKNOWN
                    || mode == Csi.VolumeCapability.AccessMode.Mode.UNRECOGNIZED) {
                return Optional.of("access mode " + cap.getAccessMode().getModeValue() + " is not supported");
            }
        }
        return Optional.empty();
    }

    private static Deadline deadline() {
        return Deadlines.forCall(UNBOUNDED_CALL);
    }

    private static String encodeToken(String lastId) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(lastId.getBytes(StandardCharsets.UTF_8));
    }

    private static String decodeToken(String token) {
        try {
            return new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new CsiException.Aborted("starting_token " + token + " is not one this driver issued");
        }
    }
}
