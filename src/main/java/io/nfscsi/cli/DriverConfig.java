package io.nfscsi.cli;

import io.nfscsi.concurrent.ContainerCpus;
import io.nfscsi.controller.ControllerSettings;
import io.nfscsi.metrics.MetricsAddress;
import io.nfscsi.server.Endpoint;
import io.nfscsi.volume.AllowedShares;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Everything the driver is started with, validated once. Each field is a flag of the same name (see
 * {@link Main}).
 *
 * @param endpoint        where the gRPC server listens
 * @param nodeId          this node's name, returned by NodeGetInfo
 * @param driverName      the CSI driver name, as in the CSIDriver object and StorageClasses
 * @param mountTimeout    the most a mount or unmount may take, whatever the caller's deadline
 * @param statsTimeout    the most a stat of a volume may take before it is reported abnormal
 * @param workingMountDir where the controller mounts shares
 * @param shutdownGrace   how long in-flight calls may run after SIGTERM
 * @param verbosity       0 (info) to 5 (trace), as Kubernetes' {@code -v}
 * @param provisioning    the controller's settings for dynamic provisioning
 * @param nodeStateDir    where the node service records which volume it published at which target; null for the
 *                        default, {@code node-state} beside the unix socket (for a tcp endpoint
 *                        {@link #DEFAULT_NODE_STATE_DIR})
 * @param metricsAddress  where the Prometheus metrics are served; null serves none
 * @param statsCacheTtl   how long NodeGetVolumeStats serves a volume's usage from its last read (the condition is
 *                        checked on every call); zero reads usage on every call; at most {@link #MAX_STATS_CACHE_TTL}
 * @param volumeUsage     what NodeGetVolumeStats reports as used: the export's or each volume's own
 * @param inlineAllowedShares the exports that inline (ephemeral) volumes may mount; null or empty allows none
 * @param publishRecordLookup whether NodePublishVolume of this driver's volumes reads the volume's record for the
 *                        settings a ControllerModifyVolume changed ({@code --publish-record-lookup})
 */
public record DriverConfig(Endpoint endpoint, String nodeId, String driverName, Duration mountTimeout,
                           Duration statsTimeout, Path workingMountDir, Duration shutdownGrace, int verbosity,
                           Provisioning provisioning, Path nodeStateDir, MetricsAddress metricsAddress,
                           Duration statsCacheTtl, VolumeUsage volumeUsage, AllowedShares inlineAllowedShares,
                           boolean publishRecordLookup) {

    /** The default {@code --volume-stats-cache-ttl}: kubelet's default volume stats aggregation period. */
    public static final Duration DEFAULT_STATS_CACHE_TTL = Duration.ofMinutes(1);
    /** The longest {@code --volume-stats-cache-ttl}: csi-driver-nfs's fixed cache time. */
    public static final Duration MAX_STATS_CACHE_TTL = Duration.ofMinutes(10);

    /**
     * {@code --volume-usage} and {@code --volume-usage-ttl}.
     *
     * @param mode what NodeGetVolumeStats reports as used bytes and inodes
     * @param ttl  with {@link Mode#WALK}, how often a volume is walked at most; {@link #MIN_TTL} to {@link #MAX_TTL}
     */
    public record VolumeUsage(Mode mode, Duration ttl) {

        public enum Mode {
            /** The whole export's, as statvfs gives them: what csi-driver-nfs reports. */
            EXPORT,
            /** The volume's own, from a walk of its directory in the background. */
            WALK;

            /** {@code export} or {@code walk}. */
            public static Mode parse(String value) {
                return switch (value) {
                    case "export" -> EXPORT;
                    case "walk" -> WALK;
                    default -> throw new IllegalArgumentException("--volume-usage must be export or walk, not \""
                            + value + "\"");
                };
            }
        }

        public static final Duration DEFAULT_TTL = Duration.ofMinutes(5);
        public static final Duration MIN_TTL = Duration.ofSeconds(10);
        public static final Duration MAX_TTL = Duration.ofHours(24);
        public static final VolumeUsage DEFAULT = new VolumeUsage(Mode.EXPORT, DEFAULT_TTL);

        public VolumeUsage {
            Objects.requireNonNull(mode, "mode");
            if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
                throw new IllegalArgumentException("--volume-usage-ttl must be between 10s and 24h");
            }
        }
    }

    /** The node state directory when the endpoint is not a unix socket and {@code --state-dir} is not given. */
    public static final Path DEFAULT_NODE_STATE_DIR = Path.of("/var/lib/nfs-csi/node-state");

    /**
     * Dynamic provisioning settings.
     *
     * @param defaultOnDelete   what DeleteVolume does when the StorageClass says nothing
     * @param shareIdleTimeout  how long an unused share stays mounted in the controller
     * @param mountPerRequest   mount the share for every call instead of pooling (for benchmarks)
     * @param deleteParallelism file-system operations in flight across every tree walk (delete, clone): the
     *                          walker threads of the one tree work pool
     * @param archiveRetention  archives older than this are removed in the background; zero keeps them
     * @param shareCheckInterval how often a pooled share is checked for staleness before use
     * @param shares            the shares the controller always knows ({@code --share}), for lists and capacity
     * @param compressionThreads threads compressing snapshot archives, shared by every snapshot; 1 to
     *                          {@link #MAX_COMPRESSION_THREADS}
     */
    public record Provisioning(OnDelete defaultOnDelete, Duration shareIdleTimeout, boolean mountPerRequest,
                               int deleteParallelism, Duration archiveRetention, Duration shareCheckInterval,
                               List<ControllerSettings.Share> shares, int compressionThreads) {

        /**
         * The most compressing threads: each keeps about 8 MiB in flight, and four already outrun what an NFS
         * share takes in.
         */
        public static final int MAX_COMPRESSION_THREADS = 4;

        /** Settings without {@code --share} flags. */
        public Provisioning(OnDelete defaultOnDelete, Duration shareIdleTimeout, boolean mountPerRequest,
                            int deleteParallelism, Duration archiveRetention, Duration shareCheckInterval) {
            this(defaultOnDelete, shareIdleTimeout, mountPerRequest, deleteParallelism, archiveRetention,
                    shareCheckInterval, List.of());
        }

        /** Settings with the default {@code --compression-threads}. */
        public Provisioning(OnDelete defaultOnDelete, Duration shareIdleTimeout, boolean mountPerRequest,
                            int deleteParallelism, Duration archiveRetention, Duration shareCheckInterval,
                            List<ControllerSettings.Share> shares) {
            this(defaultOnDelete, shareIdleTimeout, mountPerRequest, deleteParallelism, archiveRetention,
                    shareCheckInterval, shares, defaultCompressionThreads(ContainerCpus.available()));
        }

        /** The default {@code --compression-threads}: the container's CPUs, at most {@link #MAX_COMPRESSION_THREADS}. */
        public static int defaultCompressionThreads(int containerCpus) {
            return Math.clamp(containerCpus, 1, MAX_COMPRESSION_THREADS);
        }

        public static final Provisioning DEFAULTS = new Provisioning(OnDelete.DELETE, Duration.ofMinutes(5), false,
                32, Duration.ZERO, Duration.ofSeconds(10));

        public Provisioning {
            Objects.requireNonNull(defaultOnDelete, "defaultOnDelete");
            if (shareIdleTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
                throw new IllegalArgumentException("--share-idle-timeout must be at least 1s");
            }
            if (deleteParallelism < 1 || deleteParallelism > 1024) {
                throw new IllegalArgumentException("--delete-parallelism must be between 1 and 1024");
            }
            if (compressionThreads < 1 || compressionThreads > MAX_COMPRESSION_THREADS) {
                throw new IllegalArgumentException("--compression-threads must be between 1 and "
                        + MAX_COMPRESSION_THREADS);
            }
            if (archiveRetention.isNegative()) {
                throw new IllegalArgumentException("--archive-retention must not be negative");
            }
            if (shareCheckInterval.isNegative()) {
                throw new IllegalArgumentException("--share-check-interval must not be negative");
            }
            shares = List.copyOf(shares);
        }
    }

    /** The CSI spec's rule for plugin names: at most 63 characters, alphanumerics, '-', '_' and '.' inside. */
    private static final Pattern DRIVER_NAME = Pattern.compile("[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?");

    public DriverConfig {
        Objects.requireNonNull(endpoint, "endpoint");
        Objects.requireNonNull(provisioning, "provisioning");
        validate(nodeId, driverName, mountTimeout, statsTimeout, workingMountDir, shutdownGrace, verbosity);
        Objects.requireNonNull(statsCacheTtl, "statsCacheTtl");
        Objects.requireNonNull(volumeUsage, "volumeUsage");
        if (inlineAllowedShares == null) {
            inlineAllowedShares = AllowedShares.NONE;
        }
        if (statsCacheTtl.isNegative() || statsCacheTtl.compareTo(MAX_STATS_CACHE_TTL) > 0) {
            throw new IllegalArgumentException("--volume-stats-cache-ttl must be between 0 (off) and "
                    + MAX_STATS_CACHE_TTL.toMinutes() + "m");
        }
        if (nodeStateDir == null) {
            // beside the socket: kubelet's plugin directory on a node, which outlives the driver's container
            nodeStateDir = endpoint instanceof Endpoint.Unix u && u.socket().getParent() != null
                    ? u.socket().getParent().resolve("node-state") : DEFAULT_NODE_STATE_DIR;
        } else if (!nodeStateDir.isAbsolute()) {
            throw new IllegalArgumentException("--state-dir must be an absolute path");
        }
    }

    /** With the default {@code --volume-usage}, allowing no inline volume. */
    public DriverConfig(Endpoint endpoint, String nodeId, String driverName, Duration mountTimeout,
                        Duration statsTimeout, Path workingMountDir, Duration shutdownGrace, int verbosity,
                        Provisioning provisioning, Path nodeStateDir, MetricsAddress metricsAddress,
                        Duration statsCacheTtl) {
        this(endpoint, nodeId, driverName, mountTimeout, statsTimeout, workingMountDir, shutdownGrace, verbosity,
                provisioning, nodeStateDir, metricsAddress, statsCacheTtl, VolumeUsage.DEFAULT, AllowedShares.NONE);
    }

    /** Reading volume records at publish, as {@code --publish-record-lookup} does by default. */
    public DriverConfig(Endpoint endpoint, String nodeId, String driverName, Duration mountTimeout,
                        Duration statsTimeout, Path workingMountDir, Duration shutdownGrace, int verbosity,
                        Provisioning provisioning, Path nodeStateDir, MetricsAddress metricsAddress,
                        Duration statsCacheTtl, VolumeUsage volumeUsage, AllowedShares inlineAllowedShares) {
        this(endpoint, nodeId, driverName, mountTimeout, statsTimeout, workingMountDir, shutdownGrace, verbosity,
                provisioning, nodeStateDir, metricsAddress, statsCacheTtl, volumeUsage, inlineAllowedShares, true);
    }

    /** With the default {@code --volume-stats-cache-ttl}. */
    public DriverConfig(Endpoint endpoint, String nodeId, String driverName, Duration mountTimeout,
                        Duration statsTimeout, Path workingMountDir, Duration shutdownGrace, int verbosity,
                        Provisioning provisioning, Path nodeStateDir, MetricsAddress metricsAddress) {
        this(endpoint, nodeId, driverName, mountTimeout, statsTimeout, workingMountDir, shutdownGrace, verbosity,
                provisioning, nodeStateDir, metricsAddress, DEFAULT_STATS_CACHE_TTL);
    }

    /** Without a metrics endpoint. */
    public DriverConfig(Endpoint endpoint, String nodeId, String driverName, Duration mountTimeout,
                        Duration statsTimeout, Path workingMountDir, Duration shutdownGrace, int verbosity,
                        Provisioning provisioning, Path nodeStateDir) {
        this(endpoint, nodeId, driverName, mountTimeout, statsTimeout, workingMountDir, shutdownGrace, verbosity,
                provisioning, nodeStateDir, null);
    }

    /** With the default node state directory. */
    public DriverConfig(Endpoint endpoint, String nodeId, String driverName, Duration mountTimeout,
                        Duration statsTimeout, Path workingMountDir, Duration shutdownGrace, int verbosity,
                        Provisioning provisioning) {
        this(endpoint, nodeId, driverName, mountTimeout, statsTimeout, workingMountDir, shutdownGrace, verbosity,
                provisioning, null);
    }

    /** The cross-field and per-field checks; throws IllegalArgumentException naming the flag. */
    private static void validate(String nodeId, String driverName, Duration mountTimeout, Duration statsTimeout,
                                 Path workingMountDir, Duration shutdownGrace, int verbosity) {
        if (nodeId == null || nodeId.isBlank() || nodeId.length() > 256) {
            throw new IllegalArgumentException("--nodeid must be 1 to 256 characters");
        }
        if (driverName == null || !DRIVER_NAME.matcher(driverName).matches()) {
            throw new IllegalArgumentException("--drivername \"" + driverName + "\" must be at most 63 characters:"
                    + " letters, digits, '-', '_' or '.', starting and ending with a letter or digit");
        }
        if (mountTimeout.compareTo(Duration.ofSeconds(1)) < 0) {
            throw new IllegalArgumentException("--mount-timeout must be at least 1s");
        }
        if (statsTimeout.compareTo(Duration.ofMillis(100)) < 0) {
            throw new IllegalArgumentException("--stats-timeout must be at least 100ms");
        }
        if (!workingMountDir.isAbsolute()) {
            throw new IllegalArgumentException("--working-mount-dir must be an absolute path");
        }
        if (shutdownGrace.isNegative()) {
            throw new IllegalArgumentException("--shutdown-grace must not be negative");
        }
        if (verbosity < 0 || verbosity > 10) {
            throw new IllegalArgumentException("-v must be between 0 and 10");
        }
    }
}
