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
 * A {@link Mounter} that runs the system's {@code mount} and {@code umount}, which hand NFS to {@code mount.nfs}.
 * A cap on concurrent commands keeps a storm of publishes against a dead server from forking without bound.
 */
public final class CommandMounter implements Mounter {

    private static final Logger log = LoggerFactory.getLogger(CommandMounter.class);
    private static final int MOUNT_FAILURE = 32;

    private final Semaphore slots;

    /** @param maxConcurrent the most mount or umount processes running at once */
    public CommandMounter(int maxConcurrent) {
        this.slots = new Semaphore(maxConcurrent, true);
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
                runBounded(List.of("umount", "-l", target.toString()), Deadline.after(10, TimeUnit.SECONDS));
            } catch (MountException e) {
                log.error("could not detach late mount at {}: {}", target, e.getMessage());
            }
        }
    }

    @Override
    public void unmount(Path target, Deadline deadline) throws MountException {
        MountTable before = table();
        int stacked = before.countAt(target);
        if (stacked == 0) {
            return;
        }
        // -f aborts outstanding RPCs to an unresponsive NFS server; on a healthy one it unmounts as usual.
        ProcessRunner.Result forced = null;
        try {
            forced = runBounded(List.of("umount", "-f", target.toString()), deadline);
        } catch (MountException e) {
            if (e.kind() != MountException.Kind.TIMED_OUT) {
                throw e;
            }
            log.warn("umount -f {} timed out; detaching lazily", target);
        }
        if (forced != null && forced.exitCode() == 0) {
            return;
        }
        if (forced != null && table().countAt(target) < stacked) {
            return;
        }
        // the lazy detach does not talk to the server, so it gets a short budget of its own even when the
        // request's deadline is spent: leaving a dead mount attached is worse than running a little late.
        Deadline lazyDeadline = Deadline.after(10, TimeUnit.SECONDS);
        ProcessRunner.Result lazy = runBounded(List.of("umount", "-l", target.toString()), lazyDeadline);
        if (lazy.exitCode() != 0 && table().countAt(target) >= stacked) {
            String why = forced == null ? "" : "umount -f: " + forced.message() + "; ";
            throw new MountException(MountException.Kind.FAILED,
                    "unmount of " + target + " failed: " + why + "umount -l: " + lazy.message());
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
