package io.nfscsi.mount;

import io.grpc.Deadline;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Mounter} that mounts with the system's {@code mount}, which hands NFS to {@code mount.nfs} (it
 * negotiates versions and resolves the server), and unmounts with the umount2 system call. A cap on concurrent
 * mount commands keeps a storm of publishes against a dead server from forking without bound.
 */
public final class CommandMounter implements Mounter {

    private static final Logger log = LoggerFactory.getLogger(CommandMounter.class);
    private static final int MOUNT_FAILURE = 32;

    private final Semaphore slots;
    private final BoundedIo io;

    /**
     * @param maxConcurrent the most mount processes running at once
     * @param io            runs the unmount system calls under their deadlines
     */
    public CommandMounter(int maxConcurrent, BoundedIo io) {
        this.slots = new Semaphore(maxConcurrent, true);
        this.io = io;
    }

    @Override
    public void mount(String source, Path target, String fsType, List<String> options, Deadline deadline)
            throws MountException {
        List<String> argv = new ArrayList<>(List.of("mount", "-t", fsType));
        if (!options.isEmpty()) {
            argv.add("-o");
            argv.add(String.join(",", options));
        }
        argv.add(source);
        argv.add(target.toString());
        ProcessRunner.Result result;
        try {
            result = runBounded(argv, deadline);
        } catch (MountException e) {
            if (e.kind() == MountException.Kind.TIMED_OUT) {
                undoLateMount(source, target);
            }
            throw e;
        }
        if (result.exitCode() != 0) {
            throw new MountException(classifyMountFailure(result), "mount " + source + " at " + target
                    + " failed (exit " + result.exitCode() + "): " + result.message());
        }
    }

    /** The one place that reads mount's words: exit status 32 plus the server's refusal. */
    static MountException.Kind classifyMountFailure(ProcessRunner.Result result) {
        String text = result.message().toLowerCase(java.util.Locale.ROOT);
        if (result.exitCode() == MOUNT_FAILURE
                && (text.contains("access denied") || text.contains("permission denied"))) {
            return MountException.Kind.ACCESS_DENIED;
        }
        if (text.contains("no such file or directory")) {
            return MountException.Kind.NO_SUCH_PATH;
        }
        if (text.contains("stale file handle")) {
            return MountException.Kind.STALE;
        }
        return MountException.Kind.FAILED;
    }

    /**
     * A mount killed at its deadline may still have completed in the kernel; the contract is that a timed-out
     * target is left unmounted, so detach anything that appeared there from this source.
     */
    private void undoLateMount(String source, Path target) {
        var entry = table().at(target);
        if (entry.isPresent() && entry.get().source().equals(source)) {
            log.warn("mount of {} at {} completed after its deadline; detaching it", source, target);
            try {
                detach(target);
            } catch (MountException e) {
                log.error("could not detach late mount at {}: {}", target, e.getMessage());
            }
        }
    }

    @Override
    public void unmount(Path target, Deadline deadline) throws MountException {
        int stacked = table().countAt(target);
        if (stacked == 0) {
            return;
        }
        // MNT_FORCE aborts RPCs in flight to an unresponsive server; on a healthy, idle mount it unmounts as usual.
        try {
            io.run("umount -f " + target, deadline, () -> {
                Posix.umount2(target, Posix.MNT_FORCE | Posix.UMOUNT_NOFOLLOW);
                return null;
            });
            return;
        } catch (MountException e) {
            if (table().countAt(target) < stacked) {
                return;
            }
            log.warn("forced unmount of {} failed ({}); detaching lazily", target, e.getMessage());
        }
        detach(target);
        if (table().countAt(target) >= stacked) {
            throw new MountException(MountException.Kind.FAILED, "unmount of " + target + " failed: still mounted");
        }
    }

    /**
     * Lazily detaches the top mount at {@code target}. Detaching takes the mount out of the table at once; when it
     * was the last user of an NFS client whose server is gone, the system call then blocks while the kernel tears
     * the client down (NFSv4 tries to end its session with the server). That wait is not ours: once the table no
     * longer shows the mount, it is detached, and the blocked call is left to finish on its own.
     */
    private void detach(Path target) throws MountException {
        int stacked = table().countAt(target);
        try {
            io.run("umount -l " + target, Deadline.after(2, TimeUnit.SECONDS), () -> {
                Posix.umount2(target, Posix.MNT_DETACH | Posix.UMOUNT_NOFOLLOW);
                return null;
            });
        } catch (MountException e) {
            if (e.kind() != MountException.Kind.TIMED_OUT || table().countAt(target) >= stacked) {
                throw e;
            }
            log.warn("{} is detached; the kernel is still releasing its client for the unresponsive server",
                    target);
        }
    }

    @Override
    public MountTable table() {
        return MountTable.read();
    }

    private ProcessRunner.Result runBounded(List<String> argv, Deadline deadline) throws MountException {
        boolean acquired = false;
        try {
            acquired = slots.tryAcquire(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)),
                    TimeUnit.NANOSECONDS);
            if (!acquired) {
                throw new MountException(MountException.Kind.TIMED_OUT,
                        argv.getFirst() + " of " + argv.getLast() + " waited for a free mount slot until the deadline");
            }
            return ProcessRunner.run(argv, deadline);
        } catch (ProcessRunner.TimedOutException e) {
            throw new MountException(MountException.Kind.TIMED_OUT, e.getMessage());
        } catch (IOException e) {
            throw new MountException(MountException.Kind.FAILED, "cannot run " + argv.getFirst() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MountException(MountException.Kind.TIMED_OUT, argv.getFirst() + " interrupted");
        } finally {
            if (acquired) {
                slots.release();
            }
        }
    }
}
