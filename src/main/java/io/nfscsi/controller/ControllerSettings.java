package io.nfscsi.controller;

import io.nfscsi.error.CsiException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.mount.Mounter;
import io.nfscsi.volume.MountOptions;
import io.nfscsi.volume.NfsSource;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What the controller is started with, and the share pool built from it. The pool's idle reaper runs on a daemon
 * thread of its own.
 *
 * @param workingMountDir   where shares are mounted, and where the shares learned from calls are remembered
 * @param shareIdleTimeout  how long an unused share stays mounted
 * @param mountPerRequest   mount and unmount the share for every call (for comparison benchmarks only)
 * @param treeWork          the one pool of platform threads, open handles and buffers for all background tree
 *                          work (clone, restore, delete, archive), made once at start-up
 * @param archiveRetention  archives older than this are removed in the background; zero keeps them forever
 * @param shareCheckInterval how long a pooled share that answered a health check is trusted before the next one
 * @param shares            shares that are always known ({@code --share}), listed even before a call names them
 * @param fencing           how this replica fences its background jobs against other replicas'
 * @param metrics           where the share pool and the background jobs are recorded
 */
public record ControllerSettings(Path workingMountDir, Mounter mounter, BoundedIo io, Clock clock,
                                 OnDelete defaultOnDelete, Duration mountTimeout, Duration shareIdleTimeout,
                                 boolean mountPerRequest, TreeWorkPool treeWork, Duration archiveRetention,
                                 Duration shareCheckInterval, List<Share> shares, Fencing fencing,
                                 DriverMetrics metrics) {

    public ControllerSettings {
        shares = List.copyOf(shares);
        java.util.Objects.requireNonNull(fencing, "fencing");
        java.util.Objects.requireNonNull(metrics, "metrics");
    }

    /** Settings whose metrics nothing serves. */
    public ControllerSettings(Path workingMountDir, Mounter mounter, BoundedIo io, Clock clock,
                              OnDelete defaultOnDelete, Duration mountTimeout, Duration shareIdleTimeout,
                              boolean mountPerRequest, TreeWorkPool treeWork, Duration archiveRetention,
                              Duration shareCheckInterval, List<Share> shares, Fencing fencing) {
        this(workingMountDir, mounter, io, clock, defaultOnDelete, mountTimeout, shareIdleTimeout, mountPerRequest,
                treeWork, archiveRetention, shareCheckInterval, shares, fencing, DriverMetrics.unexported());
    }

    /** Settings with the default fencing: replica id the host name, owners stale after a minute. */
    public ControllerSettings(Path workingMountDir, Mounter mounter, BoundedIo io, Clock clock,
                              OnDelete defaultOnDelete, Duration mountTimeout, Duration shareIdleTimeout,
                              boolean mountPerRequest, TreeWorkPool treeWork, Duration archiveRetention,
                              Duration shareCheckInterval, List<Share> shares) {
        this(workingMountDir, mounter, io, clock, defaultOnDelete, mountTimeout, shareIdleTimeout, mountPerRequest,
                treeWork, archiveRetention, shareCheckInterval, shares, Fencing.defaults());
    }

    /**
     * How background jobs are fenced between controller replicas ({@code --replica-id}, {@code --owner-stale-after};
     * see {@link Owners}).
     *
     * @param replicaId  this replica's name on the shares' owner records; two driver processes running at once must
     *                   never share one (a record of the same id with another process's instance is taken over at
     *                   once, as an earlier process of this replica)
     * @param staleAfter a job whose owner has not refreshed its heartbeat for this long is taken over
     */
    public record Fencing(String replicaId, Duration staleAfter) {

        private static final java.util.regex.Pattern ID = java.util.regex.Pattern.compile(
                "[A-Za-z0-9](?:[A-Za-z0-9._-]{0,251}[A-Za-z0-9])?");

        /**
         * @throws IllegalArgumentException naming the flag
         */
        public Fencing {
            if (replicaId == null || !ID.matcher(replicaId).matches()) {
                throw new IllegalArgumentException("--replica-id \"" + replicaId + "\" must be 1 to 253 letters, "
                        + "digits, '-', '_' or '.', starting and ending with a letter or digit");
            }
            if (staleAfter.compareTo(Duration.ofSeconds(2)) < 0) {
                throw new IllegalArgumentException("--owner-stale-after must be at least 2s");
            }
        }

        /** The host name (a pod's name; with hostNetwork, the node's), as {@code --replica-id} defaults to. */
        public static String hostName() {
            try {
                String host = java.net.InetAddress.getLocalHost().getHostName();
                return ID.matcher(host).matches() ? host : "controller";
            } catch (java.io.IOException e) {
                return "controller";
            }
        }

        public static Fencing defaults() {
            return new Fencing(hostName(), Owners.DEFAULT_STALE_AFTER);
        }

        Owners owners(Clock clock) {
            return new Owners(replicaId, clock, staleAfter);
        }
    }

    /** Settings without {@code --share} flags. */
    public ControllerSettings(Path workingMountDir, Mounter mounter, BoundedIo io, Clock clock,
                              OnDelete defaultOnDelete, Duration mountTimeout, Duration shareIdleTimeout,
                              boolean mountPerRequest, TreeWorkPool treeWork, Duration archiveRetention,
                              Duration shareCheckInterval) {
        this(workingMountDir, mounter, io, clock, defaultOnDelete, mountTimeout, shareIdleTimeout, mountPerRequest,
                treeWork, archiveRetention, shareCheckInterval, List.<Share>of());
    }

    /**
     * A share the controller always knows: {@code SERVER:/EXPORT} optionally followed by a comma and the mount
     * options to mount it with, e.g. {@code nfs.example.com:/exports,nfsvers=4.1,hard}. The export path ends at
     * the first comma, so an export whose path holds a comma cannot be named this way.
     */
    public record Share(NfsSource source, List<String> mountOptions) {

        public Share {
            mountOptions = List.copyOf(mountOptions);
        }

        /**
         * Parses the flag's syntax.
         *
         * @throws IllegalArgumentException naming {@code field} and what is wrong
         */
        public static Share parse(String field, String value) {
            int colon = value.indexOf(":/");
            if (colon < 1) {
                throw new IllegalArgumentException(field + " \"" + value + "\" must be SERVER:/EXPORT[,OPTIONS]");
            }
            String rest = value.substring(colon + 1);
            int comma = rest.indexOf(',');
            String path = comma < 0 ? rest : rest.substring(0, comma);
            try {
                NfsSource source = NfsSource.of(value.substring(0, colon), path, null);
                List<String> options = comma < 0 ? List.of()
                        : MountOptions.split(field + " mount options", rest.substring(comma + 1));
                return new Share(source, options);
            } catch (CsiException e) {
                throw new IllegalArgumentException(field + ": " + e.getMessage());
            }
        }

        /** The flag's syntax; {@link #parse} reads it back. */
        public String format() {
            return mountOptions.isEmpty() ? source.format() : source.format() + "," + String.join(",", mountOptions);
        }
    }

    /** The share pool, with its idle reaper and, when retention is set, the archive janitor scheduled. */
    SharePool pool(Owners owners) {
        KnownShares known = KnownShares.load(workingMountDir, shares.stream()
                .map(s -> new SharePool.ShareKey(s.source(), s.mountOptions())).toList());
        // this process's temporary files on the shares name this replica, so that its next process removes them
        RecordFile.identifyWriter(owners.replica());
        SharePool pool = new SharePool(workingMountDir, mounter, io, clock, shareIdleTimeout, mountPerRequest,
                shareCheckInterval, known, metrics,
                java.util.Optional.of(new InterruptedWrites(owners.replica(), clock, owners.staleAfter())));
        metrics.sharePool("controller", pool::mountedShares, pool::leases);
        pool.unmountLeftovers();
        ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("controller-background").unstarted(r));
        long period = Math.max(1, shareIdleTimeout.toSeconds() / 2);
        background.scheduleWithFixedDelay(pool::reapIdle, period, period, TimeUnit.SECONDS);
        if (archiveRetention.isPositive()) {
            ArchiveJanitor janitor = new ArchiveJanitor(pool, clock, archiveRetention, treeWork, owners);
            long sweep = Math.clamp(archiveRetention.toSeconds() / 4, 10, 3600);
            background.scheduleWithFixedDelay(janitor::sweep, sweep, sweep, TimeUnit.SECONDS);
        }
        return pool;
    }
}
