package io.nfscsi.fs;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import io.nfscsi.posix.PathCalls;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.util.Map;
import java.util.Objects;

/**
 * Copies a volume's directory tree into an empty directory (the clone of a volume), never following a symbolic
 * link and never writing outside the target, whatever links a pod planted in the source. Directories, regular files,
 * symbolic links (as links, with the same text, wherever they point) and hard links (as hard links) are copied, with
 * mode (setuid, setgid and sticky bits included), numeric owner and access and modification times. Sockets, FIFOs
 * and devices are skipped, logged and counted. Extended attributes and ACLs are not copied.
 *
 * <p>As many file-system calls are in flight as the {@link TreeWorkPool} has walkers (shared with every other walk):
 * over NFS a copy of many small files is bound by round trips, not bandwidth. See {@link ParallelCopy} for how the
 * source is walked through directory handles.
 */
public final class TreeCopier {

    /**
     * Open source directory handles above which idle ones are closed (and reopened when needed): far below the
     * descriptor limit, far above what a tree of ordinary depth needs.
     */
    static final int HANDLE_BUDGET = 256;

    private static final int S_ISGID = 02000;

    /** What a copy made. {@code directories} excludes the target root; {@code files} counts every hard link. */
    public record Result(long files, long directories, long symlinks, long bytes, long skipped) {}

    /** A result and, for tests, the most source directory handles that were open at once. */
    record Run(Result result, int peakOpenHandles) {}

    /** Told how far a copy has come, to log it. */
    @FunctionalInterface
    public interface Progress {

        /** Ignores every update. */
        Progress NONE = (entries, bytes) -> {};

        /**
         * Called on the thread that called {@link #copy}, about once a second while the copy runs and once at its
         * successful end, with the entries (of every kind, skipped ones included) and file bytes copied so far. It
         * must return quickly; an exception from it ends the copy.
         */
        void update(long entries, long bytes);
    }

    private TreeCopier() {}

    /**
     * Copies the contents of {@code sourceRoot} into {@code targetRoot}, and gives the target root the source root's
     * mode, owner and times. A failure leaves a partial copy in the target, for the caller to delete.
     *
     * @param sourceRoot  a trusted directory (a link to it is followed); links below it are not
     * @param targetRoot  a trusted, existing, empty directory that no one else writes to while the copy runs; it
     *                    must not be inside the source
     * @param pool        runs the walk; its handle budget is leased (waiting for it until the deadline)
     * @throws CsiException.InvalidArgument    when source and target are the same directory
     * @throws CsiException.FailedPrecondition when the target is not empty, or is inside the source, or a source
     *                                         directory is the same as one above it (a bind mount)
     * @throws CsiException.DeadlineExceeded   when the deadline expires (also while waiting for the pool's handle
     *                                         budget); the message says how much was copied
     * @throws CsiException.Aborted            when a source entry was replaced while it was being copied (a pod is
     *                                         writing to the volume); a retry into an empty target may succeed
     * @throws CsiException.Internal           when a file-system call fails otherwise
     */
    public static Result copy(Path sourceRoot, Path targetRoot, TreeWorkPool pool, Deadline deadline,
                              Progress progress) {
        return run(sourceRoot, targetRoot, pool, deadline, progress, HANDLE_BUDGET).result();
    }

    static Run run(Path sourceRoot, Path targetRoot, TreeWorkPool pool, Deadline deadline, Progress progress,
                   int handleBudget) {
        Objects.requireNonNull(progress, "progress");
        String context = "copying " + sourceRoot + " to " + targetRoot;
        if (deadline.isExpired()) {
            throw new CsiException.DeadlineExceeded(context + ": nothing copied");
        }
        HandleLease lease = HandleLease.take(pool, handleBudget, deadline, context, "nothing copied");
        SecureDirectoryStream<Path> source = null;
        try {
            source = Dirs.openRoot(sourceRoot);
            Object sourceKey = Dirs.key(source);
            Map<String, Object> rootAttrs = Files.readAttributes(sourceRoot, CopyAttributes.UNIX_ATTRIBUTES);
            if (!sourceKey.equals(rootAttrs.get("fileKey"))) {
                throw new CsiException.Aborted(context + ": the source root was replaced while it was opened");
            }
            Object targetKey = prepareTarget(targetRoot, sourceKey, context);
            SecureDirectoryStream<Path> handle = source;
            source = null; // the parallel part owns it now, and closes it when its last thread is done with it
            ParallelCopy.Outcome outcome = ParallelCopy.run(handle, sourceRoot, sourceKey,
                    CopyAttributes.of(rootAttrs), targetRoot, targetKey, context, pool, deadline, handleBudget,
                    lease.handOff(), progress);
            return new Run(new Result(outcome.files(), outcome.directories(), outcome.symlinks(), outcome.bytes(),
                    outcome.skipped()), outcome.peakOpenHandles());
        } catch (IOException e) {
            throw new CsiException.Internal(context + ": " + e.getMessage(), e);
        } finally {
            Dirs.closeQuietly(source);
            lease.closeUnlessHandedOff();
        }
    }

    /**
     * Checks that the target is an empty directory other than the source, and clears its setgid bit: entries
     * created below a setgid directory would take its group (and subdirectories the bit), where every entry must be
     * created as ours until its attributes are set. The source root's mode replaces it at the end.
     *
     * @return the target's device and inode
     */
    private static Object prepareTarget(Path targetRoot, Object sourceKey, String context) throws IOException {
        Map<String, Object> attrs = Files.readAttributes(targetRoot, "unix:mode,fileKey,isDirectory");
        if (!(Boolean) attrs.get("isDirectory")) {
            throw new CsiException.FailedPrecondition(context + ": the target is not a directory");
        }
        if (sourceKey.equals(attrs.get("fileKey"))) {
            throw new CsiException.InvalidArgument(context + ": source and target are the same directory");
        }
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(targetRoot)) {
            if (entries.iterator().hasNext()) {
                throw new CsiException.FailedPrecondition(context + ": the target is not empty");
            }
        }
        int mode = (Integer) attrs.get("mode");
        if ((mode & S_ISGID) != 0) {
            PathCalls.chmod(targetRoot, mode & ~S_ISGID);
        }
        return attrs.get("fileKey");
    }
}
