package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.grpc.stub.StreamObserver;
import io.nfscsi.concurrent.Deadlines;
import io.nfscsi.concurrent.KeyedLocks;
import io.nfscsi.csi.v1.ControllerGrpc;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.error.CsiException;
import io.nfscsi.volume.MountOptions;
import io.nfscsi.volume.MutableParameters;
import io.nfscsi.volume.NfsSource;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.RequestFields;
import io.nfscsi.volume.SnapshotId;
import io.nfscsi.snapshot.Compression;
import java.util.Map;
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
            Csi.ControllerServiceCapability.RPC.Type.SINGLE_NODE_MULTI_WRITER,
            Csi.ControllerServiceCapability.RPC.Type.CREATE_DELETE_SNAPSHOT,
            Csi.ControllerServiceCapability.RPC.Type.LIST_SNAPSHOTS,
            Csi.ControllerServiceCapability.RPC.Type.GET_SNAPSHOT,
            Csi.ControllerServiceCapability.RPC.Type.CLONE_VOLUME,
            Csi.ControllerServiceCapability.RPC.Type.MODIFY_VOLUME);

    /** What a paging token's decoded text starts with, so that a token of one list is refused by the other. */
    static final String VOLUME_TOKEN = "volumes-after:";
    static final String SNAPSHOT_TOKEN = "snapshots-after:";

    private final Provisioner provisioner;
    private final Snapshots snapshots;
    private final OnDelete defaultOnDelete;
    private final Runnable onShutdown;
    private final KeyedLocks locks = new KeyedLocks();

    ControllerService(Provisioner provisioner, Snapshots snapshots, OnDelete defaultOnDelete, Runnable onShutdown) {
        this.provisioner = provisioner;
        this.snapshots = snapshots;
        this.defaultOnDelete = defaultOnDelete;
        this.onShutdown = onShutdown;
    }

    /** The controller of a driver started with these settings. */
    /** The domain class behind the volume calls; for tests in this package. */
    Provisioner provisioner() {
        return provisioner;
    }

    public static ControllerService create(ControllerSettings settings) {
        Owners owners = settings.fencing().owners(settings.clock());
        SharePool pool = settings.pool(owners);
        Jobs jobs = new Jobs(settings.clock(), settings.treeWork(), settings.metrics());
        Provisioner provisioner = new Provisioner(pool, settings.clock(), settings.defaultOnDelete(),
                settings.mountTimeout(), settings.treeWork(), jobs, owners);
        Snapshots snapshots = new Snapshots(pool, provisioner, jobs, settings.clock(), settings.treeWork(), owners);
        provisioner.useSnapshots(snapshots);
        return new ControllerService(provisioner, snapshots, settings.defaultOnDelete(), pool::closeIdle);
    }

    /** Unmounts the shares the controller mounted; call once the server has stopped taking calls. */
    public void shutdown() {
        onShutdown.run();
    }

    @Override
    public void createVolume(Csi.CreateVolumeRequest req, StreamObserver<Csi.CreateVolumeResponse> reply) {
        String name = RequestFields.name("name", req.getName());
        long capacity = capacity(req.hasCapacityRange() ? req.getCapacityRange() : null);
        List<String> mountFlags = capabilities("volume_capabilities", req.getVolumeCapabilitiesList());
        VolumeParameters params = VolumeParameters.parse(req.getParametersMap(), name, defaultOnDelete);
        ContentSource source = contentSource(req);
        MutableParameters mutable = MutableParameters.parse("mutable_parameters", mutableParameters(req));
        Provisioner.Created created;
        // a clone also holds its source's key: the source is neither deleted nor expanded while it is read
        String sourceName = source instanceof ContentSource.FromVolume(VolumeId v) ? v.volumeName() : name;
        try (var _ = locks.acquire(volumeKey(name), "volume " + name);
             var _ = sourceName.equals(name) ? null
                     : locks.acquire(volumeKey(sourceName), "source volume " + sourceName)) {
            created = provisioner.create(name, params, mutable, mountFlags, capacity, source, deadline());
        }
        var volume = Csi.Volume.newBuilder()
                .setVolumeId(created.id().format())
                .setCapacityBytes(created.capacityBytes())
                .putAllVolumeContext(created.volumeContext());
        if (req.hasVolumeContentSource()) {
            volume.setContentSource(req.getVolumeContentSource());
        }
        reply.onNext(Csi.CreateVolumeResponse.newBuilder().setVolume(volume).build());
        reply.onCompleted();
    }

    /** CreateVolume's mutable_parameters as a map; a key given twice takes its last value, as in a protobuf map. */
    private static Map<String, String> mutableParameters(Csi.CreateVolumeRequest req) {
        Map<String, String> map = new java.util.LinkedHashMap<>();
        for (var e : req.getMutableParametersList()) {
            map.put(e.getKey(), e.getValue());
        }
        return map;
    }

    /**
     * ControllerModifyVolume: changes a volume's mountOptions, onDelete or mountPermissions (see {@link
     * MutableParameters}) under the volume's lock, the one DeleteVolume takes. Empty mutable_parameters: OK, nothing
     * changes. A volume_id that is not ours or csi-driver-nfs's is NOT_FOUND, as for ControllerGetVolume.
     */
    @Override
    public void controllerModifyVolume(Csi.ControllerModifyVolumeRequest req,
                                       StreamObserver<Csi.ControllerModifyVolumeResponse> reply) {
        String raw = RequestFields.required("volume_id", req.getVolumeId());
        MutableParameters changes = MutableParameters.parse("mutable_parameters", req.getMutableParametersMap());
        VolumeId id = parse("volume_id", raw).orElseThrow(() -> new CsiException.NotFound("volume " + raw
                + " does not exist"));
        try (var _ = locks.acquire(volumeKey(id.volumeName()), "volume " + id.volumeName())) {
            provisioner.modify(id, changes, deadline());
        }
        reply.onNext(Csi.ControllerModifyVolumeResponse.getDefaultInstance());
        reply.onCompleted();
    }

    /**
     * The one lock key of a volume, whatever the call: CreateVolume's name, and the same name taken from the ID
     * ({@link VolumeId#volumeName()}) for DeleteVolume, ControllerExpandVolume and a clone's source.
     */
    static String volumeKey(String name) {
        return "volume\0" + name;
    }

    /** The one lock key of a snapshot: CreateSnapshot's name, and the same name taken from the snapshot ID. */
    static String snapshotKey(String name) {
        return "snapshot\0" + name;
    }

    /**
     * The request's content source; NOT_FOUND for an ID that does not parse, as for one that does not exist;
     * INVALID_ARGUMENT for a volume ID naming a hidden directory.
     */
    private static ContentSource contentSource(Csi.CreateVolumeRequest req) {
        if (!req.hasVolumeContentSource()) {
            return ContentSource.NONE;
        }
        Csi.VolumeContentSource s = req.getVolumeContentSource();
        if (s.hasSnapshot()) {
            String raw = RequestFields.required("volume_content_source.snapshot.snapshot_id",
                    s.getSnapshot().getSnapshotId());
            return new ContentSource.FromSnapshot(parseSnapshot(raw).orElseThrow(() -> new CsiException.NotFound(
                    "snapshot " + raw + " does not exist: the ID is not one this driver or csi-driver-nfs made")));
        }
        if (s.hasVolume()) {
            String raw = RequestFields.required("volume_content_source.volume.volume_id", s.getVolume().getVolumeId());
            return new ContentSource.FromVolume(parse("volume_content_source.volume.volume_id", raw)
                    .orElseThrow(() -> new CsiException.NotFound("source volume " + raw + " does not exist")));
        }
        throw new CsiException.InvalidArgument("volume_content_source names neither a snapshot nor a volume");
    }

    @Override
    public void createSnapshot(Csi.CreateSnapshotRequest req, StreamObserver<Csi.CreateSnapshotResponse> reply) {
        String sourceId = RequestFields.required("source_volume_id", req.getSourceVolumeId());
        String name = RequestFields.snapshotName("name", req.getName());
        Snapshots.Parameters params = snapshotParameters(req.getParametersMap());
        VolumeId source = parse("source_volume_id", sourceId).orElseThrow(() -> new CsiException.NotFound(
                "source volume " + sourceId + " does not exist"));
        Snapshots.Status status;
        try (var _ = locks.acquire(snapshotKey(name), "snapshot " + name)) {
            status = snapshots.create(name, source, params, deadline());
        }
        reply.onNext(Csi.CreateSnapshotResponse.newBuilder().setSnapshot(snapshot(status)).build());
        reply.onCompleted();
    }

    @Override
    public void deleteSnapshot(Csi.DeleteSnapshotRequest req, StreamObserver<Csi.DeleteSnapshotResponse> reply) {
        String raw = RequestFields.required("snapshot_id", req.getSnapshotId());
        Optional<SnapshotId> id = parseSnapshot(raw);
        if (id.isEmpty()) {
            log.warn("DeleteSnapshot of malformed snapshot_id {}: treated as already deleted", raw);
        } else {
            try (var _ = locks.acquire(snapshotKey(id.get().name()), "snapshot " + id.get().name())) {
                snapshots.delete(id.get(), secretMountOptions(req.getSecretsMap()), deadline());
            }
        }
        reply.onNext(Csi.DeleteSnapshotResponse.getDefaultInstance());
        reply.onCompleted();
    }

    @Override
    public void listSnapshots(Csi.ListSnapshotsRequest req, StreamObserver<Csi.ListSnapshotsResponse> reply) {
        if (req.getMaxEntries() < 0) {
            throw new CsiException.InvalidArgument("max_entries must not be negative");
        }
        Optional<RecordDirectory.Position> after = decodeToken(req.getStartingToken(), SNAPSHOT_TOKEN);
        RecordDirectory.Page<Snapshots.Status> page;
        if (!req.getSnapshotId().isEmpty()) {
            // one snapshot: a page of it, or of nothing when the token's position is at or past it
            page = new RecordDirectory.Page<>(parseSnapshot(req.getSnapshotId())
                    .flatMap(this::snapshotIfItsShareExists)
                    .filter(s -> req.getSourceVolumeId().isEmpty() || s.sourceVolumeId().equals(req.getSourceVolumeId()))
                    .filter(s -> after.isEmpty() || position(s.id()).compareTo(after.get()) > 0)
                    .map(List::of).orElse(List.of()), Optional.empty());
        } else {
            page = snapshots.list(after, req.getMaxEntries(), req.getSourceVolumeId(), deadline());
        }
        var response = Csi.ListSnapshotsResponse.newBuilder();
        for (Snapshots.Status s : page.entries()) {
            response.addEntries(Csi.ListSnapshotsResponse.Entry.newBuilder().setSnapshot(snapshot(s)));
        }
        page.next().ifPresent(p -> response.setNextToken(encodeToken(SNAPSHOT_TOKEN, p)));
        reply.onNext(response.build());
        reply.onCompleted();
    }

    /** The snapshot; empty when it, or the export that would hold it, does not exist (ListSnapshots: no entry). */
    private Optional<Snapshots.Status> snapshotIfItsShareExists(SnapshotId id) {
        try {
            return snapshots.get(id, deadline());
        } catch (CsiException.NotFound e) {
            return Optional.empty();
        }
    }

    @Override
    public void getSnapshot(Csi.GetSnapshotRequest req, StreamObserver<Csi.GetSnapshotResponse> reply) {
        String raw = RequestFields.required("snapshot_id", req.getSnapshotId());
        SnapshotId id = parseSnapshot(raw).orElseThrow(() -> new CsiException.NotFound("snapshot " + raw
                + " does not exist"));
        Snapshots.Status status = snapshots.get(id, deadline()).orElseThrow(() -> new CsiException.NotFound(
                "snapshot " + raw + " does not exist"));
        reply.onNext(Csi.GetSnapshotResponse.newBuilder().setSnapshot(snapshot(status)).build());
        reply.onCompleted();
    }

    private static Csi.Snapshot snapshot(Snapshots.Status s) {
        return Csi.Snapshot.newBuilder()
                .setSnapshotId(s.id().format())
                .setSourceVolumeId(s.sourceVolumeId())
                .setSizeBytes(s.sizeBytes())
                .setReadyToUse(s.ready())
                .setCreationTime(com.google.protobuf.Timestamp.newBuilder().setSeconds(s.created().getEpochSecond())
                        .setNanos(s.created().getNano()))
                .build();
    }

    /** VolumeSnapshotClass parameters: server, share, mountOptions, compression, and csi.storage.k8s.io/*. */
    static Snapshots.Parameters snapshotParameters(Map<String, String> parameters) {
        String server = null;
        String share = null;
        List<String> options = List.of();
        Compression compression = Compression.GZIP;
        for (var p : parameters.entrySet()) {
            String key = p.getKey().toLowerCase(Locale.ROOT);
            if (key.startsWith("csi.storage.k8s.io/")) {
                continue;
            }
            switch (key) {
                case "server" -> server = p.getValue();
                case "share" -> share = p.getValue();
                case "mountoptions" -> options = MountOptions.split("parameters.mountOptions", p.getValue());
                case "compression" -> compression = Compression.parse("parameters.compression", p.getValue());
                default -> throw new CsiException.InvalidArgument("parameters has unknown key \"" + p.getKey()
                        + "\"; known: server, share, mountOptions, compression and csi.storage.k8s.io/*");
            }
        }
        if ((server == null) != (share == null)) {
            throw new CsiException.InvalidArgument("parameters.server and parameters.share go together");
        }
        Optional<NfsSource> target = server == null ? Optional.empty() : Optional.of(NfsSource.of(server, share, null));
        return new Snapshots.Parameters(target, options, compression);
    }

    private static Optional<SnapshotId> parseSnapshot(String raw) {
        try {
            return Optional.of(SnapshotId.parse(raw));
        } catch (VolumeId.InvalidException e) {
            log.debug("snapshot_id {} is not valid: {}", raw, e.getMessage());
            return Optional.empty();
        }
    }

    private static List<String> secretMountOptions(Map<String, String> secrets) {
        for (var secret : secrets.entrySet()) {
            if (secret.getKey().toLowerCase(Locale.ROOT).equals(MOUNT_OPTIONS_SECRET)) {
                return MountOptions.split("secrets.mountOptions", secret.getValue());
            }
        }
        return List.of();
    }

    /** Where a snapshot is in ListSnapshots' order. */
    private static RecordDirectory.Position position(SnapshotId id) {
        return new RecordDirectory.Position(id.shareSource().format(), id.name());
    }

    @Override
    public void deleteVolume(Csi.DeleteVolumeRequest req, StreamObserver<Csi.DeleteVolumeResponse> reply) {
        String raw = RequestFields.required("volume_id", req.getVolumeId());
        Optional<VolumeId> id = parse("volume_id", raw);
        if (id.isEmpty()) {
            log.warn("DeleteVolume of malformed volume_id {}: treated as already deleted", raw);
        } else {
            List<String> fallback = secretMountOptions(req.getSecretsMap());
            try (var _ = locks.acquire(volumeKey(id.get().volumeName()), "volume " + id.get().volumeName())) {
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
        VolumeId id = parse("volume_id", raw).orElseThrow(() -> new CsiException.NotFound("volume " + raw
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
        VolumeId id = parse("volume_id", raw).orElseThrow(() -> new CsiException.NotFound("volume " + raw
                + " does not exist"));
        long granted;
        try (var _ = locks.acquire(volumeKey(id.volumeName()), "volume " + id.volumeName())) {
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
        boolean hasServer = server != null && !server.isEmpty();
        boolean hasShare = share != null && !share.isEmpty();
        if (hasServer != hasShare) {
            throw new CsiException.InvalidArgument("parameters.server and parameters.share go together: "
                    + (hasServer ? "parameters.share" : "parameters.server") + " is missing");
        }
        // parameters are OPTIONAL: without a share, the capacity is that of every share this controller knows
        long available = hasServer ? provisioner.capacity(NfsSource.of(server, share, null), flags, deadline())
                : provisioner.capacityOfKnown(deadline());
        reply.onNext(Csi.GetCapacityResponse.newBuilder().setAvailableCapacity(available).build());
        reply.onCompleted();
    }

    @Override
    public void listVolumes(Csi.ListVolumesRequest req, StreamObserver<Csi.ListVolumesResponse> reply) {
        if (req.getMaxEntries() < 0) {
            throw new CsiException.InvalidArgument("max_entries must not be negative");
        }
        Optional<RecordDirectory.Position> after = decodeToken(req.getStartingToken(), VOLUME_TOKEN);
        var page = provisioner.list(after, req.getMaxEntries(), deadline());
        var response = Csi.ListVolumesResponse.newBuilder();
        for (Provisioner.Listed v : page.entries()) {
            response.addEntries(Csi.ListVolumesResponse.Entry.newBuilder()
                    .setVolume(volume(v))
                    .setStatus(Csi.ListVolumesResponse.VolumeStatus.newBuilder()
                            .setVolumeCondition(condition(v))));
        }
        page.next().ifPresent(p -> response.setNextToken(encodeToken(VOLUME_TOKEN, p)));
        reply.onNext(response.build());
        reply.onCompleted();
    }

    @Override
    public void controllerGetVolume(Csi.ControllerGetVolumeRequest req,
                                    StreamObserver<Csi.ControllerGetVolumeResponse> reply) {
        String raw = RequestFields.required("volume_id", req.getVolumeId());
        VolumeId id = parse("volume_id", raw).orElseThrow(() -> new CsiException.NotFound("volume " + raw
                + " does not exist"));
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

    /**
     * A volume ID from a request; empty when it is not one of ours or csi-driver-nfs's (callers answer NOT_FOUND,
     * or OK for DeleteVolume: no such volume exists).
     *
     * @throws CsiException.InvalidArgument when it names a hidden directory such as the driver's metadata
     *                                      ({@link VolumeId#checkNotHidden}): refused, whatever the call
     */
    private static Optional<VolumeId> parse(String field, String raw) {
        try {
            return Optional.of(VolumeId.parse(raw));
        } catch (VolumeId.InvalidException e) {
            if (e.reserved()) {
                throw new CsiException.InvalidArgument(field + ": " + e.getMessage());
            }
            log.debug("{} {} is not valid: {}", field, raw, e.getMessage());
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

    /** A paging token: the kind of list and the position of the page's last entry, base64url. */
    static String encodeToken(String kind, RecordDirectory.Position last) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString((kind + last.format())
                .getBytes(StandardCharsets.UTF_8));
    }

    /**
     * The position of the previous page's last entry; empty for no token. A token this driver did not issue for
     * this kind of list (or issued before the lists were ordered by position) is ABORTED, the spec's code for an
     * invalid {@code starting_token}: the caller lists again from the start.
     */
    static Optional<RecordDirectory.Position> decodeToken(String token, String kind) {
        if (token.isEmpty()) {
            return Optional.empty();
        }
        String decoded;
        try {
            decoded = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(java.nio.ByteBuffer.wrap(Base64.getUrlDecoder().decode(token))).toString();
        } catch (IllegalArgumentException | java.nio.charset.CharacterCodingException e) {
            throw new CsiException.Aborted("starting_token is not one this driver issued: it does not decode");
        }
        if (!decoded.startsWith(kind)) {
            throw new CsiException.Aborted("starting_token is not one this driver issued for this list");
        }
        return Optional.of(RecordDirectory.Position.parse(decoded.substring(kind.length())).orElseThrow(
                () -> new CsiException.Aborted("starting_token is not one this driver issues: it names no position")));
    }
}
