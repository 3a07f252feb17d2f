package io.nfscsi.fs;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * Deletes a volume's directory tree on a share, never following a symbolic link and never touching anything
 * outside the tree, whatever links a pod planted in it (to "/", to "..", to a sibling volume). Every call is made
 * relative to an open directory handle; a link is removed as a link. Permissions are left as they are: a
 * directory without write permission (mode 0500) can be emptied only by root, as the controller runs.
 */
public final class TreeDeleter {

    /**
     * Open directory handles above which idle ones are closed (and reopened when needed): far below the
     * descriptor limit, far above what a tree of ordinary depth needs.
     */
    static final int HANDLE_BUDGET = 256;

    /** What a deletion removed; {@code existed} is false when there was nothing to delete. */
    public record DeleteResult(long files, long directories, boolean existed) {}

    /** A result and, for tests, the most directory handles that were open at once. */
    record Run(DeleteResult result, int peakOpenHandles) {}

    private static final Run ABSENT = new Run(new DeleteResult(0, 0, false), 0);
    /** The JDK's message for ESTALE (strerror), which it gives as the exception's reason. */
    private static final String STALE_REASON = "Stale file handle";

    private TreeDeleter() {}

    /**
     * Deletes {@code root/relative} and everything below it, on the walkers of {@code pool} (whose handle budget is
     * leased, waiting for it until the deadline). A target that is a symbolic link, or any other non-directory, is removed itself. What is deleted
     * before a failure stays deleted, and a later call carries on from there.
     *
     * @param root     a trusted directory (a mounted share); {@code relative} is resolved below it
     * @param relative one or more plain names: no "." or "..", not absolute, not empty
     * @throws CsiException.InvalidArgument    when {@code relative} is not plain
     * @throws CsiException.FailedPrecondition when a component above the target is a symbolic link or not a
     *                                         directory: nothing is deleted
     * @throws CsiException.DeadlineExceeded   when the deadline expires; the message says how much was removed
     * @throws CsiException.Aborted            when a directory was replaced while it was being emptied
     * @throws CsiException.Internal           when a file-system call fails otherwise
     */
    public static DeleteResult delete(Path root, Path relative, TreeWorkPool pool, Deadline deadline) {
        return delete(root, relative, pool, deadline, removed -> { });
    }

    /**
     * As {@link #delete(Path, Path, TreeWorkPool, Deadline)}; {@code follow} is given, before a directory's walk
     * starts, how many entries it has removed so far, for progress reports while it runs.
     */
    public static DeleteResult delete(Path root, Path relative, TreeWorkPool pool, Deadline deadline,
                                      Consumer<LongSupplier> follow) {
        return run(root, relative, pool, deadline, HANDLE_BUDGET, follow).result();
    }

    static Run run(Path root, Path relative, TreeWorkPool pool, Deadline deadline, int handleBudget) {
        return run(root, relative, pool, deadline, handleBudget, removed -> { });
    }

    static Run run(Path root, Path relative, TreeWorkPool pool, Deadline deadline, int handleBudget,
                   Consumer<LongSupplier> follow) {
        List<String> names = SafePaths.components(relative.toString());
        String context = "deleting " + relative;
        String nothing = "0 entries removed, the rest remains; retry continues";
        if (deadline.isExpired()) {
            throw new CsiException.DeadlineExceeded(context + ": " + nothing);
        }
        HandleLease lease = HandleLease.take(pool, handleBudget, deadline, context, nothing);
        SecureDirectoryStream<Path> dir = null;
        try {
            dir = Dirs.openRoot(root);
            for (int i = 0; i < names.size() - 1; i++) {
                SecureDirectoryStream<Path> next = Dirs.descend(dir, root.getFileSystem().getPath(names.get(i)),
                        context, SafePaths.prefix(names, i));
                if (next == null) {
                    return ABSENT;
                }
                dir.close();
                dir = next;
            }
            Path target = root.getFileSystem().getPath(names.getLast());
            BasicFileAttributes attrs = Dirs.lstat(dir, target);
            if (attrs == null) {
                return ABSENT;
            }
            if (!attrs.isDirectory()) {
                try {
                    dir.deleteFile(target); // a link itself, not what it points to
                } catch (NoSuchFileException e) {
                    return ABSENT;
                }
                return new Run(new DeleteResult(1, 0, true), 0);
            }
            SecureDirectoryStream<Path> parent = dir;
            dir = null; // the parallel part owns it now, and closes it when its last thread is done with it
            ParallelDelete.Outcome outcome =
                    ParallelDelete.run(parent, target, context, pool, deadline, handleBudget, lease.handOff(),
                            follow);
            return new Run(new DeleteResult(outcome.files(), outcome.directories(), true), outcome.peakOpenHandles());
        } catch (IOException e) {
            throw new CsiException.Internal(context + ": " + e.getMessage(), e);
        } finally {
            Dirs.closeQuietly(dir);
            lease.closeUnlessHandedOff();
        }
    }

    /**
     * After {@code root/relative} was deleted, removes those of its ancestors that it left empty, deepest first,
     * up to but never including {@code root}. Stops at the first that is not empty; an ancestor that is a symbolic
     * link or not a directory is left alone, and so is everything above it. Ancestors already gone are skipped.
     *
     * @throws CsiException.InvalidArgument when {@code relative} is not plain
     * @throws CsiException.Internal        when a file-system call fails otherwise
     */
    public static void removeEmptyParents(Path root, Path relative) {
        List<String> names = SafePaths.components(relative.toString());
        String context = "removing the empty parents of " + relative;
        // handles.get(i + 1) is the ancestor names[0..i]; handles.get(0) is the root
        List<SecureDirectoryStream<Path>> handles = new ArrayList<>();
        try {
            handles.add(Dirs.openRoot(root));
            for (int i = 0; i < names.size() - 1; i++) {
                SecureDirectoryStream<Path> next;
                try {
                    next = Dirs.descend(handles.getLast(), root.getFileSystem().getPath(names.get(i)), context,
                            SafePaths.prefix(names, i));
                } catch (CsiException.FailedPrecondition e) {
                    return; // going up, this is where we would stop: it, and all above it, stay
                }
                if (next == null) {
                    break; // nothing below exists; what is above may still be empty
                }
                handles.add(next);
            }
            for (int i = handles.size() - 1; i >= 1; i--) {
                Dirs.closeQuietly(handles.removeLast());
                try {
                    handles.getLast().deleteDirectory(root.getFileSystem().getPath(names.get(i - 1)));
                } catch (DirectoryNotEmptyException e) {
                    return;
                } catch (NoSuchFileException e) {
                    // removed meanwhile: its parent may be empty now
                }
            }
        } catch (IOException e) {
            if (isStaleHandle(e)) {
                // An ancestor we hold was removed by a concurrent delete, which found it empty and goes on
                // upward itself: nothing is left for this one to do.
                return;
            }
            throw new CsiException.Internal(context + ": " + e.getMessage(), e);
        } finally {
            handles.forEach(Dirs::closeQuietly);
        }
    }

    /** Whether a file-system call failed with ESTALE: on NFS, a directory handle whose directory was removed. */
    static boolean isStaleHandle(IOException e) {
        return e instanceof FileSystemException fse && STALE_REASON.equals(fse.getReason());
    }
}
