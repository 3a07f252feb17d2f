package io.nfscsi.cli;

import io.grpc.BindableService;
import io.nfscsi.controller.ControllerService;
import io.nfscsi.controller.ControllerSettings;
import io.nfscsi.identity.IdentityService;
import io.nfscsi.identity.Readiness;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.ContainerCpus;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.metrics.MetricsAddress;
import io.nfscsi.metrics.MetricsServer;
import io.nfscsi.logging.LogFormat;
import io.nfscsi.logging.Logging;
import io.nfscsi.mount.CommandMounter;
import io.nfscsi.node.NodeService;
import io.nfscsi.server.CsiServer;
import io.nfscsi.server.Endpoint;
import io.nfscsi.volume.AllowedShares;
import io.nfscsi.volume.OnDelete;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.Callable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code nfs-csi}: parses flags into a {@link DriverConfig} and serves the CSI services until SIGTERM. */
@Command(name = "nfs-csi", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        sortOptions = false, usageHelpAutoWidth = true,
        description = "A CSI driver for NFS: serves the Identity, Controller and Node services on one socket.")
public final class Main implements Callable<Integer> {

    @Option(names = "--endpoint", paramLabel = "URL", defaultValue = "unix:///csi/csi.sock",
            description = "Where to serve gRPC: unix:///path/to/csi.sock, or tcp://HOST:PORT for debugging "
                    + "(default: ${DEFAULT-VALUE}).")
    String endpoint;

    @Option(names = "--nodeid", paramLabel = "NAME", description = "This node's name, as Kubernetes knows it "
            + "(default: the host name).")
    String nodeId;

    @Option(names = "--drivername", paramLabel = "NAME", defaultValue = "nfs.csi.io",
            description = "The CSI driver name (default: ${DEFAULT-VALUE}).")
    String driverName;

    @Option(names = "--mount-timeout", paramLabel = "DURATION", defaultValue = "2m",
            converter = DurationConverter.class,
            description = "The most a mount or unmount may take; the mount is then killed (default: ${DEFAULT-VALUE}).")
    Duration mountTimeout;

    /** How old the readiness that Probe answers may be before it is checked again, in the background. */
    static final Duration READINESS_MAX_AGE = Duration.ofSeconds(5);

    @Option(names = "--stats-timeout", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.class,
            description = "The most a volume stat may take before the volume is reported abnormal "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration statsTimeout;

    @Option(names = "--volume-stats-cache-ttl", paramLabel = "DURATION", defaultValue = "1m",
            converter = DurationConverter.class,
            description = "How long NodeGetVolumeStats serves a volume's usage (bytes, inodes) from its last read; "
                    + "the volume's condition is checked on every call. 0 reads usage on every call; at most 10m "
                    + "(default: ${DEFAULT-VALUE}, kubelet's volume stats period).")
    Duration statsCacheTtl;

    @Option(names = "--volume-usage", paramLabel = "MODE", defaultValue = "export",
            converter = VolumeUsageConverter.class,
            description = "What NodeGetVolumeStats reports as a volume's used bytes and inodes: export, the whole "
                    + "export's (statvfs); walk, the volume's own, from a walk of its directory in the background "
                    + "(default: ${DEFAULT-VALUE}).")
    DriverConfig.VolumeUsage.Mode volumeUsage;

    @Option(names = "--volume-usage-ttl", paramLabel = "DURATION", defaultValue = "5m",
            converter = DurationConverter.class,
            description = "With --volume-usage=walk: a volume is walked again when asked about at least this long "
                    + "after its last walk started; until the new walk ends the last figure is served. 10s to 24h "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration volumeUsageTtl;

    @Option(names = "--working-mount-dir", paramLabel = "DIR", defaultValue = "/var/lib/nfs-csi/mounts",
            description = "Where the controller mounts NFS shares (default: ${DEFAULT-VALUE}).")
    Path workingMountDir;

    @Option(names = "--state-dir", paramLabel = "DIR",
            description = "Where the node service records which volume it published at which target path, so that "
                    + "a restarted driver knows (default: node-state beside the --endpoint socket).")
    Path stateDir;

    @Option(names = "--shutdown-grace", paramLabel = "DURATION", defaultValue = "30s",
            converter = DurationConverter.class,
            description = "How long in-flight calls may finish after SIGTERM (default: ${DEFAULT-VALUE}).")
    Duration shutdownGrace;

    @Option(names = "--default-ondelete-policy", paramLabel = "POLICY", defaultValue = "delete",
            description = "What DeleteVolume does when the StorageClass sets no onDelete: delete, retain or archive "
                    + "(default: ${DEFAULT-VALUE}).")
    String defaultOnDelete;

    @Option(names = "--share-idle-timeout", paramLabel = "DURATION", defaultValue = "5m",
            converter = DurationConverter.class,
            description = "How long the controller keeps an unused share mounted (default: ${DEFAULT-VALUE}).")
    Duration shareIdleTimeout;

    @Option(names = "--share-check-interval", paramLabel = "DURATION", defaultValue = "10s",
            converter = DurationConverter.class,
            description = "How long a pooled share that answered a stat is trusted before the next check for a "
                    + "stale mount; 0 checks before every use (default: ${DEFAULT-VALUE}).")
    Duration shareCheckInterval;

    @Option(names = "--archive-retention", paramLabel = "DURATION", defaultValue = "0",
            converter = DurationConverter.class,
            description = "Remove archived volumes older than this, in the background; 0 keeps them "
                    + "(default: ${DEFAULT-VALUE}).")
    Duration archiveRetention;

    @Option(names = "--delete-parallelism", paramLabel = "N", defaultValue = "32",
            description = "File-system operations in flight across every tree delete and clone: the threads of the "
                    + "one pool that walks trees (default: ${DEFAULT-VALUE}).")
    int deleteParallelism;

    @Option(names = "--compression-threads", paramLabel = "N",
            description = "Threads compressing snapshot archives, shared by every snapshot, 1 to 4 (default: the "
                    + "container's CPUs, at most 4).")
    Integer compressionThreads;

    @Option(names = "--share", paramLabel = "SERVER:/EXPORT[,OPTIONS]",
            description = "A share the controller always lists (ListVolumes, ListSnapshots, GetCapacity without "
                    + "parameters, archive retention), mounted with the mount OPTIONS after the first comma, if any. "
                    + "Repeatable. Shares named by calls are also remembered in the working mount directory.")
    List<String> shares = new ArrayList<>();

    @Option(names = "--inline-allowed-shares", paramLabel = "SERVER:/PATH[,...]",
            description = "The exports that inline (CSI ephemeral) volumes may mount, comma-separated; repeatable. "
                    + "SERVER is a host name or address, * for any, or *.example.com for any name one label below; "
                    + "PATH is the volume's path (share and subDir joined) exactly, with * for any one segment, or "
                    + "ending in /** for it and everything below. Other inline volumes are refused with "
                    + "PERMISSION_DENIED; without the flag, all are. Persistent volumes are never checked.")
    List<String> inlineAllowedShares = new ArrayList<>();

    @Option(names = "--publish-record-lookup", arity = "1", paramLabel = "true|false", defaultValue = "true",
            description = "Whether NodePublishVolume of a volume this driver provisioned reads the volume's record "
                    + "on the share (one read-only mount and unmount more per publish) for the mount options and "
                    + "permissions a ControllerModifyVolume set. false: publishes use the PV's volumeAttributes only.")
    boolean publishRecordLookup;

    @Option(names = "--replica-id", paramLabel = "NAME",
            description = "This controller replica's name in the owner records of its background jobs (restore, "
                    + "clone, snapshot) on the shares. Two driver processes running at once must never share one "
                    + "(default: the host name; with the manifests' hostNetwork that is the node's, and two "
                    + "controller replicas never share a node).")
    String replicaId;

    @Option(names = "--owner-stale-after", paramLabel = "DURATION", defaultValue = "1m",
            converter = DurationConverter.class,
            description = "A background job whose replica has not refreshed its heartbeat on the share for this "
                    + "long is taken over by the replica that is asked next (default: ${DEFAULT-VALUE}).")
    Duration ownerStaleAfter;

    @Option(names = "--mount-per-request", defaultValue = "false",
            description = "Mount the share for every controller call instead of once per share. Slower; it exists "
                    + "to measure what the share pool saves.")
    boolean mountPerRequest;

    @Option(names = "--metrics-address", paramLabel = "HOST:PORT",
            description = "Serve Prometheus metrics over HTTP at /metrics on this address (:PORT for every "
                    + "interface); off unless set.")
    String metricsAddress;

    @Option(names = {"-v", "--v"}, paramLabel = "LEVEL", defaultValue = "0",
            description = "Log verbosity: 0-3 info, 4 debug (every call, polled ones too), 5 trace, 6 also "
                    + "the libraries' debug output, 7 their trace "
                    + "(default: ${DEFAULT-VALUE}).")
    int verbosity;

    @Option(names = "--logging-format", paramLabel = "FORMAT", defaultValue = "text",
            converter = LogFormatConverter.class,
            description = "text: klog's format, as Kubernetes components log by default; json: Kubernetes' JSON log "
                    + "format, one object per line (default: ${DEFAULT-VALUE}).")
    LogFormat loggingFormat;

    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Parses and runs; returns the exit code (2 for a bad flag or value, with a one-line reason). */
    static int run(String[] args) {
        CommandLine cli = new CommandLine(new Main());
        cli.setParameterExceptionHandler((e, a) -> {
            PrintWriter err = e.getCommandLine().getErr();
            err.println("nfs-csi: " + e.getMessage() + " (see --help)");
            err.flush();
            return 2;
        });
        return cli.execute(args);
    }

    DriverConfig config() throws IOException {
        String node = nodeId != null ? nodeId : InetAddress.getLocalHost().getHostName();
        return new DriverConfig(Endpoint.parse(endpoint), node, driverName, mountTimeout, statsTimeout,
                workingMountDir, shutdownGrace, verbosity, new DriverConfig.Provisioning(
                        onDeletePolicy(defaultOnDelete), shareIdleTimeout, mountPerRequest, deleteParallelism,
                        archiveRetention, shareCheckInterval,
                        shares.stream().map(s -> ControllerSettings.Share.parse("--share", s)).toList(),
                        compressionThreads != null ? compressionThreads
                                : DriverConfig.Provisioning.defaultCompressionThreads(ContainerCpus.available())),
                stateDir, metricsAddress == null ? null : MetricsAddress.parse(metricsAddress), statsCacheTtl,
                new DriverConfig.VolumeUsage(volumeUsage, volumeUsageTtl),
                AllowedShares.parse("--inline-allowed-shares", inlineAllowedShares), publishRecordLookup);
    }

    private static OnDelete onDeletePolicy(String value) {
        try {
            return OnDelete.parse("--default-ondelete-policy", value);
        } catch (io.nfscsi.error.CsiException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
    }

    @Override
    public Integer call() throws Exception {
        DriverConfig config;
        ControllerSettings.Fencing fencing;
        try {
            config = config();
            fencing = new ControllerSettings.Fencing(
                    replicaId != null ? replicaId : ControllerSettings.Fencing.hostName(), ownerStaleAfter);
        } catch (IllegalArgumentException e) {
            System.err.println("nfs-csi: " + e.getMessage() + " (see --help)");
            return 2;
        }
        Logging.configure(config.verbosity(), loggingFormat);
        Logger log = LoggerFactory.getLogger(Main.class);
        // the socket first: a second driver on a served socket stops here, before it touches any share
        CsiServer.Claim claim;
        try {
            claim = CsiServer.claim(config.endpoint());
        } catch (IOException e) {
            return cannotStart(log, e.getMessage());
        }
        try {
            Files.createDirectories(config.workingMountDir());
        } catch (IOException e) {
            claim.close();
            return cannotStart(log, "cannot create the working mount directory " + config.workingMountDir() + ": "
                    + CsiServer.describe(config.workingMountDir(), e));
        }
        String version = Version.get();
        DriverMetrics metrics = new DriverMetrics().withJvm();
        BoundedIo io = new BoundedIo(64, "node", metrics);
        CommandMounter mounter = new CommandMounter(16, io, metrics);
        DriverConfig.Provisioning p = config.provisioning();
        TreeWorkPool treeWork = new TreeWorkPool(TreeWorkPool.Limits.of(p.deleteParallelism(),
                p.compressionThreads()));
        TreeWorkPool.Limits caps = treeWork.limits();
        log.info("tree work pool: {} jobs at once, {} walker threads, {} compressing threads ({} threads at most), "
                + "{} open directory handles, {} MiB of buffers", caps.jobThreads(), caps.walkThreads(),
                caps.compressionThreads(), caps.maxThreads(), caps.handles(), caps.bufferBytes() / TreeWorkPool.MIB);
        // the controller's share I/O has slots of its own: shares that stopped answering (each capped by its lane)
        // never take the slots that the node's publish, unpublish and stats calls need
        BoundedIo controllerIo = new BoundedIo(64, "controller", metrics);
        ControllerService controller = ControllerService.create(new ControllerSettings(config.workingMountDir(),
                mounter, controllerIo, Clock.systemUTC(), p.defaultOnDelete(), config.mountTimeout(),
                p.shareIdleTimeout(), p.mountPerRequest(), treeWork, p.archiveRetention(), p.shareCheckInterval(),
                p.shares(), fencing, metrics));
        List<BindableService> services = List.of(
                new IdentityService(config.driverName(), version,
                        Readiness.keptCurrent(Readiness.of(Readiness.MOUNT_NFS,
                                List.of(config.workingMountDir())), READINESS_MAX_AGE, Clock.systemUTC())),
                controller,
                new NodeService(config.nodeId(), mounter, io, config.nodeStateDir(), config.mountTimeout(),
                        config.statsTimeout(), config.statsCacheTtl(),
                        config.volumeUsage().mode() == DriverConfig.VolumeUsage.Mode.WALK
                                ? config.volumeUsage().ttl() : null, config.inlineAllowedShares(),
                        config.publishRecordLookup(), Clock.systemUTC()));
        log.info("nfs-csi {} starting: driver {}, node {}, mount timeout {}, controller replica {}", version,
                config.driverName(), config.nodeId(), GoDuration.format(config.mountTimeout()), fencing.replicaId());
        if (!config.inlineAllowedShares().isEmpty()) {
            log.info("inline volumes may mount {}", config.inlineAllowedShares().format());
        }
        MetricsServer metricsServer = null;
        if (config.metricsAddress() != null) {
            try {
                metricsServer = MetricsServer.start(config.metricsAddress(), metrics);
            } catch (IOException e) {
                claim.close();
                controller.shutdown();
                return cannotStart(log, e.getMessage());
            }
            log.info("serving metrics on {}", new MetricsAddress(config.metricsAddress().host(),
                    metricsServer.port()).format());
        }
        CsiServer server;
        try {
            server = CsiServer.start(claim, services, metrics);
        } catch (IOException e) {
            // start has released the claim
            controller.shutdown();
            if (metricsServer != null) {
                metricsServer.close();
            }
            return cannotStart(log, e.getMessage());
        }
        MetricsServer served = metricsServer;
        Thread stopper = new Thread(() -> {
            log.info("signal received; finishing in-flight calls for up to {}",
                    GoDuration.format(config.shutdownGrace()));
            server.stop(config.shutdownGrace());
            controller.shutdown();
            if (served != null) {
                served.close();
            }
        }, "shutdown");
        Runtime.getRuntime().addShutdownHook(stopper);
        server.awaitTermination();
        return 0;
    }

    /**
     * A start that failed for a reason outside the command line (the socket, the working directory, the bind): one
     * error line in the driver's log format, not a stack trace; the exit code is 1, where a bad flag gives 2.
     */
    private static int cannotStart(Logger log, String reason) {
        log.error(reason);
        return 1;
    }

    static final class LogFormatConverter implements CommandLine.ITypeConverter<LogFormat> {
        @Override
        public LogFormat convert(String value) {
            try {
                return LogFormat.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class VolumeUsageConverter implements CommandLine.ITypeConverter<DriverConfig.VolumeUsage.Mode> {
        @Override
        public DriverConfig.VolumeUsage.Mode convert(String value) {
            try {
                return DriverConfig.VolumeUsage.Mode.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    static final class DurationConverter implements CommandLine.ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return GoDuration.parse(value);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        }
    }

    /** The version the build wrote into {@code version.properties}. */
    static final class Version implements CommandLine.IVersionProvider {
        static String get() {
            try (InputStream in = Main.class.getResourceAsStream("/io/nfscsi/version.properties")) {
                Properties p = new Properties();
                if (in != null) {
                    p.load(in);
                }
                return p.getProperty("version", "unknown");
            } catch (IOException e) {
                return "unknown";
            }
        }

        @Override
        public String[] getVersion() {
            return new String[] {"nfs-csi " + get()};
        }
    }
}
