package io.nfscsi.controller;

import io.nfscsi.mount.BoundedIo;
import io.nfscsi.mount.Mounter;
import io.nfscsi.volume.OnDelete;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What the controller is started with, and the share pool built from it. The pool's idle reaper runs on a daemon
 * thread of its own.
 *
 * @param workingMountDir   where shares are mounted
 * @param shareIdleTimeout  how long an unused share stays mounted
 * @param mountPerRequest   mount and unmount the share for every call (for comparison benchmarks only)
 * @param deleteParallelism how many file-system operations a tree delete keeps in flight
 * @param archiveRetention  archives older than this are removed in the background; zero keeps them forever
 * @param shareCheckInterval how long a pooled share that answered a health check is trusted before the next one
 */
public record ControllerSettings(Path workingMountDir, Mounter mounter, BoundedIo io, Clock clock,
                                 OnDelete defaultOnDelete, Duration mountTimeout, Duration shareIdleTimeout,
                                 boolean mountPerRequest, int deleteParallelism, Duration archiveRetention,
                                 Duration shareCheckInterval) {

    /** The share pool, with its idle reaper and, when retention is set, the archive janitor scheduled. */
    SharePool pool() {
        SharePool pool = new SharePool(workingMountDir, mounter, io, clock, shareIdleTimeout, mountPerRequest,
                shareCheckInterval);
        ScheduledExecutorService background = Executors.newSingleThreadScheduledExecutor(
                r -> Thread.ofPlatform().daemon().name("controller-background").unstarted(r));
        long period = Math.max(1, shareIdleTimeout.toSeconds() / 2);
        background.scheduleWithFixedDelay(pool::reapIdle, period, period, TimeUnit.SECONDS);
        if (archiveRetention.isPositive()) {
            ArchiveJanitor janitor = new ArchiveJanitor(pool, clock, archiveRetention, deleteParallelism);
            long sweep = Math.clamp(archiveRetention.toSeconds() / 4, 10, 3600);
            background.scheduleWithFixedDelay(janitor::sweep, sweep, sweep, TimeUnit.SECONDS);
        }
        return pool;
    }
}
