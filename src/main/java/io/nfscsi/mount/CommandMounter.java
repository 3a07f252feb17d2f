package io.nfscsi.mount;

import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.concurrent.Deadline;
import io.nfscsi.metrics.DriverMetrics;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A {@link Mounter} that mounts with the system's {@code mount}, which hands NFS to {@code mount.nfs} (it
 * negotiates versions and resolves the server), and unmounts with the umount2 system call. A cap on concurrent
 * mount commands keeps a storm of publishes against a dead server from forking without bound: a mount that finds
 * every slot taken waits briefly, then is refused as {@link MountException.Kind#BUSY} with the time until the
 * earliest running mount's deadline as its retry hint.
 */
public final class CommandMounter implements Mounter {

    private static final Logger log = LoggerFactory.getLogger(CommandMounter.class);
    private static final int MOUNT_FAILURE = 32;
    /**
     * How long a mount waits for a free slot before it is refused as RESOURCE_EXHAUSTED: long enough to queue a burst
     * of publishes against a healthy server (a mount takes about a second), short enough that a storm against a dead
     * one is told to come back instead of waiting out its deadline in a queue.
     */
    public static final Duration DEFAULT_SLOT_WAIT = Duration.ofSeconds(10);

    private final String mountCommand;
    private final Semaphore slots;
    private final Duration slotWait;
    private final BoundedIo io;
    private final DriverMetrics metrics;
    /** The deadlines of the mounts running now: the earliest says when a slot is sure to be free. */
    private final Map<Long, Deadline> running = new ConcurrentHashMap<>();
    private final AtomicLong runs = new AtomicLong();

    /**
     * @param maxConcurrent the most mount processes running at once
     * @param io            runs the unmount system calls under their deadlines
     */
    public CommandMounter(int maxConcurrent, BoundedIo io) {
        this(maxConcurrent, io, DriverMetrics.unexported());
    }

    /** @param metrics records every mount and unmount, and the NFS servers' answers to mounts */
    public CommandMounter(int maxConcurrent, BoundedIo io, DriverMetrics metrics) {
        this("mount", maxConcurrent, DEFAULT_SLOT_WAIT, io, metrics);
    }

    /** @param slotWait how long a mount waits for one of the {@code maxConcurrent} slots */
    public CommandMounter(int maxConcurrent, Duration slotWait, BoundedIo io) {
        this("mount", maxConcurrent, slotWait, io, DriverMetrics.unexported());
    }

    /** @param mountCommand the program run as mount(8); tests give a script */
    CommandMounter(String mountCommand, int maxConcurrent, Duration slotWait, BoundedIo io) {
        this(mountCommand, maxConcurrent, slotWait, io, DriverMetrics.unexported());
    }

    CommandMounter(String mountCommand, int maxConcurrent, Duration slotWait, BoundedIo io, DriverMetrics metrics) {
        this.mountCommand = mountCommand;
        this.slots = new Semaphore(maxConcurrent, true);
        this.slotWait = slotWait;
        this.io = io;
        this.metrics = metrics;
    }

    @Override
    public void mount(String source, Path target, String fsType, List<String> options, Deadline deadline)
            throws MountException {
        long start = System.nanoTime();
        String server = server(source);
        try {
            runMount(source, target, fsType, options, deadline);
        } catch (MountException e) {
            metrics.mountOperation("mount", result(e), System.nanoTime() - start);
            // BUSY never asked the server; the other kinds are its answer, or the driver's fault
            if (e.kind() == MountException.Kind.UNREACHABLE || e.kind() == MountException.Kind.TIMED_OUT) {
                metrics.serverFailed(server);
            }
            throw e;
        }
        metrics.mountOperation("mount", "ok", System.nanoTime() - start);
        metrics.serverSucceeded(server, System.currentTimeMillis() / 1000.0);
    }

    /** The server of an NFS source ({@code server:/export}, {@code [v6]:/export}); the whole source otherwise. */
    static String server(String source) {
        int colon = source.indexOf(":/");
        return colon > 0 ? source.substring(0, colon) : source;
    }

    /** A metric label for a failure: its kind, in lower case. */
    private static String result(MountException e) {
        return e.kind().name().toLowerCase(Locale.ROOT);
    }

    private void runMount(String source, Path target, String fsType, List<String> options, Deadline deadline)
            throws MountException {
        List<String> argv = new ArrayList<>(List.of(mountCommand, "-t", fsType));
        if (!options.isEmpty()) {
            argv.add("-o");
            argv.add(String.join(",", options));
        }
        argv.add(source);
        argv.add(target.toString());
        // messages never hold the command line (its options may come from a secret), nor the source and target:
        // every caller's toCsi names them
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
            throw new MountException(classifyMountFailure(result), "mount failed (exit " + result.exitCode()
                    + "): " + withoutOptions(result.message(), options));
        }
    }

    /**
     * The one place that reads mount's words (LC_ALL=C; texts measured in the test bed, see testbed/README.md):
     * exit status 32 plus the server's refusal is ACCESS_DENIED; a missing export or directory NO_SUCH_PATH; a
     * rejected option BAD_OPTION; a server that cannot be reached or does not offer NFS (mount.nfs says "requested
     * NFS version or transport protocol is not supported" when nfsd is stopped, "Resource temporarily unavailable"
     * when the server's name does not resolve for now, and "mount system call failed" when a soft mount's server does
     * not answer; it says the same for an NFS version Linux lacks, which MountOptions refuses before) UNREACHABLE;
     * ENOSPC/EDQUOT NO_SPACE; EROFS READ_ONLY.
     */
    static MountException.Kind classifyMountFailure(ProcessRunner.Result result) {
        String text = result.message().toLowerCase(Locale.ROOT);
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
        if (text.contains("incorrect mount option") || text.contains("invalid argument")
                || text.contains("unknown parameter") || text.contains("bad option")
                || text.contains("bad value") || text.contains("invalid value")) {
            return MountException.Kind.BAD_OPTION;
        }
        if (text.contains("connection refused") || text.contains("no route to host")
                || text.contains("network is unreachable") || text.contains("timed out")
                || text.contains("host is down") || text.contains("failed to resolve server")
                || text.contains("resource temporarily unavailable")
                || text.contains("protocol not supported") || text.contains("transport protocol is not supported")
                || (result.exitCode() == MOUNT_FAILURE && text.contains("mount system call failed"))) {
            return MountException.Kind.UNREACHABLE;
        }
        if (text.contains("no space left on device") || text.contains("disk quota exceeded")) {
            return MountException.Kind.NO_SPACE;
        }
        if (text.contains("read-only file system")) {
            return MountException.Kind.READ_ONLY;
        }
        return MountException.Kind.FAILED;
    }

    /**
     * {@code text} with every option that was passed, and the value of every {@code name=value} option, replaced by
     * its position: a tool or the kernel may quote an option it rejects, and options can come from a secret.
     */
    static String withoutOptions(String text, List<String> options) {
        List<Map.Entry<String, String>> tokens = new ArrayList<>();
        for (int i = 0; i < options.size(); i++) {
            String option = options.get(i);
            tokens.add(Map.entry(option, "<option " + (i + 1) + ">"));
            int eq = option.indexOf('=');
            if (eq >= 0 && eq < option.length() - 1) {
                tokens.add(Map.entry(option.substring(eq + 1), "<value of option " + (i + 1) + ">"));
            }
        }
        // longest first: an option that holds another is replaced whole
        tokens.sort(Comparator.comparingInt((Map.Entry<String, String> t) -> t.getKey().length()).reversed());
        String out = text;
        for (var t : tokens) {
            out = replaceToken(out, t.getKey(), t.getValue());
        }
        return out;
    }

    /**
     * Replaces {@code token}: one of 6 or more characters wherever it appears, a shorter one (ro, hard, 3) only where
     * it is not part of a longer word, so that it does not eat into the tool's words.
     */
    private static String replaceToken(String text, String token, String with) {
        if (token.length() >= 6) {
            return text.replace(token, with);
        }
        return Pattern.compile("(?<![A-Za-z0-9_.=-])" + Pattern.quote(token) + "(?![A-Za-z0-9_.=-])")
                .matcher(text).replaceAll(Matcher.quoteReplacement(with));
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
        long start = System.nanoTime();
        try {
            unmountStacked(target, deadline, stacked);
        } catch (MountException e) {
            metrics.mountOperation("unmount", result(e), System.nanoTime() - start);
            throw e;
        }
        metrics.mountOperation("unmount", "ok", System.nanoTime() - start);
    }

    private void unmountStacked(Path target, Deadline deadline, int stacked) throws MountException {
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
        long run = runs.incrementAndGet();
        try {
            long wait = Math.min(slotWait.toNanos(), Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)));
            acquired = slots.tryAcquire(wait, TimeUnit.NANOSECONDS);
            if (!acquired) {
                Duration retry = untilASlotFrees();
                throw MountException.busy("mount not started: all " + running.size() + " mount slots are taken"
                        + " by mounts still running", retry);
            }
            running.put(run, deadline);
            return ProcessRunner.run(argv, deadline);
        } catch (ProcessRunner.TimedOutException e) {
            metrics.mountKilled();
            throw new MountException(MountException.Kind.TIMED_OUT, e.getMessage());
        } catch (IOException e) {
            throw new MountException(MountException.Kind.FAILED, "cannot run " + argv.getFirst() + ": " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new MountException(MountException.Kind.TIMED_OUT, "mount interrupted");
        } finally {
            if (acquired) {
                running.remove(run);
                slots.release();
            }
        }
    }

    /** The time until the earliest deadline of the running mounts (each is killed by then), at least a second. */
    private Duration untilASlotFrees() {
        long nanos = running.values().stream().mapToLong(d -> d.timeRemaining(TimeUnit.NANOSECONDS)).min()
                .orElse(0);
        return Duration.ofNanos(Math.max(TimeUnit.SECONDS.toNanos(1), nanos));
    }
}
