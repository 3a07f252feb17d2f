package io.nfscsi.controller;

import io.nfscsi.error.CsiException;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.TreeWorkPool;
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
 */
public record ControllerSettings(Path workingMountDir, Mounter mounter, BoundedIo io, Clock clock,
                                 OnDelete defaultOnDelete, Duration mountTimeout, Duration shareIdleTimeout,
                                 boolean mountPerRequest, TreeWorkPool treeWork, Duration archiveRetention,
                                 Duration shareCheckInterval, List<Share> shares) {

    public ControllerSettings {
        shares = List.copyOf(shares);
    }

    /** Settings without {@code --share} flags. */
    public ControllerSettings(Path workingMountDir, Mounter mounter, BoundedIo io, Clock clock,
                              OnDelete defaultOnDelete, Duration mountTimeout, Duration shareIdleTimeout,
                              boolean mountPerRequest, TreeWorkPool treeWork, Duration archiveRetention,
                              Duration shareCheckInterval) {
        this(workingMountDir, mounter, io, clock, defaultOnDelete, mountTimeout, shareIdleTimeout, mountPerRequest,
                treeWork, archiveRetention, shareCheckInterval, List.of());
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
    SharePool pool() {
        KnownShares known = KnownShares.load(workingMountDir, shares.stream()
                .map(s -> new SharePool.ShareKey(s.source(), s.mountOptions())).toList());
        SharePool pool = new SharePool(workingMountDir, mounter, io, clock, shareIdleTimeout, mountPerRequest,
                shareCheckInterval, known);
        ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("controller-background").unstarted(r));
        long period = Math.max(1, shareIdleTimeout.toSeconds() / 2);
        background.scheduleWithFixedDelay(pool::reapIdle, period, period, TimeUnit.SECONDS);
        if (archiveRetention.isPositive()) {
            ArchiveJanitor janitor = new ArchiveJanitor(pool, clock, archiveRetention, treeWork);
            long sweep = Math.clamp(archiveRetention.toSeconds() / 4, 10, 3600);
            background.scheduleWithFixedDelay(janitor::sweep, sweep, sweep, TimeUnit.SECONDS);
        }
        return pool;
    }
}
