package io.nfscsi.fs;

import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.function.LongSupplier;

/**
 * The parallel part of {@link TreeDeleter}: empties a directory below an open parent handle and removes it.
 *
 * <p>Over NFS every call is a round trip, so the work is cut into tasks that never wait for one another (list a
 * directory; lstat and unlink a batch of its entries; remove a directory once its count of unfinished work drops to
 * zero), run on the shared walkers of the {@link TreeWorkPool}: as many calls are in flight as there are walkers,
 * whenever there is that much work. Platform threads, because the JDK does not compensate a virtual thread's
 * carrier for these file-system calls, so virtual threads would cap the calls in flight at the number of cores, and
 * pin the carriers that gRPC calls need. The walkers are LIFO per thread, so each goes depth-first, and idle ones
 * steal the oldest, largest pieces of work.
 *
 * <p>Every directory is reached through the open handle of its parent and opened with {@code O_NOFOLLOW}; handles
 * are kept by a {@link HandleCache}, reopened going up through the child's {@code ..}.
 *
 * <p>Between the lstat that finds a directory and the open of it, a pod still writing to the tree could put a FIFO
 * in its place: the open would then block (the JDK opens without {@code O_DIRECTORY} or {@code O_NONBLOCK}). The
 * deadline still ends the call, but that one thread stays blocked until the FIFO gets a writer.
 */
final class ParallelDelete {

    /**
     * Entries handled per task: small enough that one large directory spreads over every thread, large enough that
     * scheduling costs nothing next to the file-system calls.
     */
    static final int BATCH = 16;

    /**
     * Unfinished pieces of one directory above which its lister removes a batch itself instead of queueing it:
     * listing is far faster than unlinking, and a directory of millions of entries must not be queued whole.
     */
    private static final int MAX_PENDING = 1024;

    /** What the caller learns: the counts, and (for tests) how many handles were open at most. */
    record Outcome(long files, long directories, int peakOpenHandles) {}

    /** A directory being emptied. */
    private static final class Node extends HandleCache.Dir {
        /** Work that must finish before this directory is empty: its listing, its batches, its subdirectories. */
        final AtomicInteger pending = new AtomicInteger(1);

        Node(Node parent, Path name) {
            super(parent, name, null);
        }

        Node parent() {
            return (Node) parent;
        }
    }

    private final String context;
    private final Deadline deadline;
    private final RunControl control;
    /** Gives back the handle budget leased for this walk, once its last handle is closed. */
    private final Runnable leaseEnd;
    private final Node base;
    private final HandleCache handles;
    private final AtomicLong files = new AtomicLong();
    private final AtomicLong directories = new AtomicLong();

    private ParallelDelete(SecureDirectoryStream<Path> parent, String context, TreeWorkPool pool, Deadline deadline,
                           int handleBudget, Runnable leaseEnd) {
        this.context = context;
        this.deadline = deadline;
        this.leaseEnd = leaseEnd;
        this.control = new RunControl(context, deadline, pool);
        this.base = new Node(null, null);
        this.handles = new HandleCache(base, parent, handleBudget, dir -> new CsiException.Aborted(context
                + ": a directory was replaced by another while it was being emptied; retry continues"));
    }

    /**
     * Empties the directory {@code name} in {@code parent} and removes it. Takes ownership of {@code parent}, which
     * is closed when this returns, or, if a thread is still blocked in the kernel then, when it comes back.
     *
     * @param context      what is being done, to start messages ("deleting a/b")
     * @param handleBudget open directory handles above which idle ones are closed
     * @param leaseEnd     run once every handle is closed: gives the budget back
     * @param follow       given, before the walk starts, how many entries it has removed so far
     * @throws CsiException.DeadlineExceeded when the deadline expires first; what was removed stays removed
     * @throws CsiException.Aborted          when a directory was replaced by another while it was being emptied
     * @throws CsiException.Internal         on any other failure of a file-system call
     */
    static Outcome run(SecureDirectoryStream<Path> parent, Path name, String context, TreeWorkPool pool,
                       Deadline deadline, int handleBudget, Runnable leaseEnd, Consumer<LongSupplier> follow) {
        ParallelDelete run = new ParallelDelete(parent, context, pool, deadline, handleBudget, leaseEnd);
        follow.accept(() -> run.files.get() + run.directories.get());
        Node target = new Node(run.base, name);
        run.fork(() -> run.list(target));
        run.await();
        Throwable failed = run.control.failure();
        if (failed != null) {
            throw run.describe(failed);
        }
        return new Outcome(run.files.get(), run.directories.get(), run.handles.peakOpen());
    }

    private void await() {
        try {
            // The threads check the deadline between calls; this bound is for a call that never returns (a hung
            // server), which no check between calls can notice.
            if (!control.awaitFinished(Math.max(0, deadline.timeRemaining(NANOSECONDS)))) {
                fail(RunControl.DEADLINE);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
        }
        control.shutDown(() -> {
            handles.closeAll();
            leaseEnd.run();
        });
    }

    private CsiException describe(Throwable failed) {
        long removed = files.get() + directories.get();
        String progress = removed + " entries removed, the rest remains; retry continues";
        return control.describe(failed, progress);
    }

    private void fail(Throwable t) {
        control.fail(t);
    }

    private void checkpoint() {
        control.checkpoint();
    }

    private void fork(RunControl.Step step) {
        control.fork(step);
    }

    private void list(Node dir) throws IOException {
        SecureDirectoryStream<Path> handle;
        try {
            handle = handles.acquire(dir);
        } catch (NoSuchFileException e) {
            finishedOne(dir); // removed by another deletion at work on the same tree (a retry overlapping us)
            return;
        }
        try {
            // A node is listed only right after its handle was opened (the first time, or after a failed rmdir
            // closed it), so the stream has not been iterated, which a stream allows only once.
            List<Path> batch = new ArrayList<>(BATCH);
            for (Path entry : handle) {
                batch.add(entry.getFileName());
                if (batch.size() == BATCH) {
                    if (dir.pending.get() > MAX_PENDING) {
                        dir.pending.incrementAndGet();
                        remove(dir, batch);
                    } else {
                        removeLater(dir, batch);
                    }
                    batch = new ArrayList<>(BATCH);
                    checkpoint();
                }
            }
            if (!batch.isEmpty()) {
                removeLater(dir, batch);
            }
        } catch (DirectoryIteratorException e) {
            throw e.getCause();
        } finally {
            handles.release(dir, false);
        }
        finishedOne(dir);
    }

    private void removeLater(Node dir, List<Path> names) {
        dir.pending.incrementAndGet();
        fork(() -> remove(dir, names));
    }

    /** Removes each of {@code names} in {@code dir}: a non-directory (a symlink too) at once, a directory later. */
    private void remove(Node dir, List<Path> names) throws IOException {
        SecureDirectoryStream<Path> handle;
        try {
            handle = handles.acquire(dir);
        } catch (NoSuchFileException e) {
            finishedOne(dir); // removed by another deletion, with these entries
            return;
        }
        try {
            for (Path name : names) {
                checkpoint();
                BasicFileAttributes attrs = Dirs.lstat(handle, name);
                if (attrs == null) {
                    continue; // gone since the listing: an earlier attempt still running, or the pod
                }
                if (attrs.isDirectory()) {
                    Node child = new Node(dir, name);
                    dir.pending.incrementAndGet();
                    fork(() -> list(child));
                    continue;
                }
                try {
                    handle.deleteFile(name); // unlinkat(2) without AT_REMOVEDIR: a link is removed, not followed
                    files.incrementAndGet();
                } catch (NoSuchFileException e) {
                    // gone since the lstat
                }
            }
        } finally {
            handles.release(dir, false);
        }
        finishedOne(dir);
    }

    private void finishedOne(Node dir) throws IOException {
        if (dir.pending.decrementAndGet() == 0) {
            removeEmptied(dir);
        }
    }

    /** Removes {@code dir}, now empty, from its parent, and each ancestor that this empties in turn. */
    private void removeEmptied(Node dir) throws IOException {
        Node held = null; // an ancestor reached by going up: still held, so that its ".." can be opened
        while (true) {
            checkpoint();
            Node parent = dir.parent();
            SecureDirectoryStream<Path> parentHandle;
            try {
                parentHandle = handles.acquireParent(dir);
            } catch (NoSuchFileException e) {
                parentHandle = null; // the parent is gone, and this directory with it: another deletion at work
            } finally {
                if (held != null) {
                    handles.release(held, false);
                }
            }
            boolean keepParent = false;
            try {
                handles.closeHandle(dir);
                if (parentHandle != null && !removeFrom(parentHandle, dir)) {
                    return;
                }
                if (parent == base) {
                    control.finish();
                    return;
                }
                if (parent.pending.decrementAndGet() != 0) {
                    return;
                }
                keepParent = parentHandle != null;
            } finally {
                if (parentHandle != null && !keepParent) {
                    handles.release(parent, false);
                }
            }
            dir = parent;
            held = keepParent ? parent : null;
        }
    }

    /** Removes the empty {@code dir}; false when it turned out not to be empty and is being listed again. */
    private boolean removeFrom(SecureDirectoryStream<Path> parentHandle, Node dir) throws IOException {
        try {
            parentHandle.deleteDirectory(dir.name);
            directories.incrementAndGet();
        } catch (DirectoryNotEmptyException e) {
            // Created after the listing, or missed by it (NFS may skip entries of a directory that changes while
            // it is read): list it again, reopened through the parent, with the same device and inode.
            dir.pending.set(1);
            fork(() -> list(dir));
            return false;
        } catch (NoSuchFileException e) {
            // removed by another deletion at work on the same tree; it counts as done here too
        }
        return true;
    }
}
