package io.nfscsi.fs;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;
import static java.util.concurrent.TimeUnit.NANOSECONDS;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.nio.file.DirectoryIteratorException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The parallel part of {@link TreeCopier}: copies the entries of an open source directory into a target directory.
 *
 * <p>Copying a small file over NFS is a dozen round trips, so the work is cut into tasks that never wait for one
 * another (list a directory; copy a batch of its entries; finish a directory once its count of unfinished work drops
 * to zero) and run on the shared walkers of the {@link TreeWorkPool}, as in {@link ParallelDelete}, whose reasons
 * (LIFO per thread, so depth-first; no virtual threads) hold here too.
 *
 * <p>The source is reached only through directory handles: every directory through its parent's handle, opened with
 * {@code O_NOFOLLOW} and checked to have the device and inode that its parent's lstat saw; every file opened through
 * its directory's handle with {@code O_NOFOLLOW}. Java offers no handle-relative call for what a copy also needs
 * (the full mode, numeric owner, link count, a link's text), so those are read by path, and used only when the path
 * leads to the inode the handle saw: a directory above that was swapped for a link makes the path lead elsewhere,
 * and is refused. Handles ({@link HandleCache}) are closed once a directory's own entries are done, or earlier,
 * when idle and over budget; a directory is reopened from its nearest open ancestor, checked against the inode it
 * had. The copy of one entry is {@link ContentCopy}'s, its attributes {@link CopyAttributes}.
 *
 * <p>The target is written by path, below the target root, which must be empty and which only this copy writes to:
 * every entry is created new ({@code O_EXCL}, mkdir, symlink, link) under a directory this copy created, so no path
 * in it passes through a link. A directory's mode, owner and times are set once all of its entries are in, so that a
 * read-only or setgid mode does not affect its own copying, and its mtime is the source's.
 *
 * <p>Between the lstat that finds a regular file or a directory and the open of it, a pod still writing to the tree
 * could put a FIFO in its place: the open would then block. The deadline still ends the call, but that one thread
 * stays blocked until the FIFO gets a writer.
 */
final class ParallelCopy {

    private static final Logger log = LoggerFactory.getLogger(TreeCopier.class);

    /**
     * Entries per task. Copying one entry takes several round trips, so batches are small: a directory of a dozen
     * files still spreads over several threads, and scheduling still costs nothing next to the file-system calls.
     */
    static final int BATCH = 4;

    /** Unfinished pieces of one directory above which its lister copies a batch itself instead of queueing it. */
    private static final int MAX_PENDING = 1024;

    /** How often the caller's thread reports progress while it waits. */
    static final Duration PROGRESS_INTERVAL = Duration.ofSeconds(1);

    /** Attempts at reading an entry's attributes whose handle and path views disagree (it is being replaced). */
    private static final int ATTEMPTS = 3;

    /** What the caller learns: the counts, and (for tests) how many handles were open at most. */
    record Outcome(long files, long directories, long symlinks, long bytes, long skipped, int peakOpenHandles) {}

    /** A source directory being copied. */
    private static final class Node extends HandleCache.Dir {
        final Path source;
        final Path target;
        final CopyAttributes attributes;
        /** Work before this directory is complete: its listing, its batches, its unfinished subdirectories. */
        final AtomicInteger pending = new AtomicInteger(1);

        Node(Node parent, Path name, Path source, Path target, Object key, CopyAttributes attributes) {
            super(parent, name, key);
            this.source = source;
            this.target = target;
            this.attributes = attributes;
        }

        Node parent() {
            return (Node) parent;
        }
    }

    private final String context;
    private final Deadline deadline;
    private final Object targetKey;
    private final RunControl control;
    /** Gives back the handle budget leased for this walk, once its last handle is closed. */
    private final Runnable leaseEnd;
    private final Node root;
    private final HandleCache handles;
    private final ContentCopy.Tally tally = new ContentCopy.Tally();
    private final ContentCopy contents;

    private ParallelCopy(SecureDirectoryStream<Path> sourceHandle, Path sourceRoot, Object sourceKey,
                         CopyAttributes rootAttributes, Path targetRoot, Object targetKey, String context,
                         TreeWorkPool pool, Deadline deadline, int handleBudget, Runnable leaseEnd) {
        this.context = context;
        this.deadline = deadline;
        this.targetKey = targetKey;
        this.leaseEnd = leaseEnd;
        this.control = new RunControl(context, deadline, pool);
        this.root = new Node(null, null, sourceRoot, targetRoot, sourceKey, rootAttributes);
        this.handles = new HandleCache(root, sourceHandle, handleBudget,
                dir -> replaced(((Node) dir).parent(), dir.name));
        this.contents = new ContentCopy(control, deadline, tally,
                source -> replaced(root.source.relativize(source).toString()));
    }

    /**
     * Copies the entries of {@code sourceHandle} into {@code targetRoot}, then gives the target root the source
     * root's mode, owner and times. Takes ownership of {@code sourceHandle}, which is closed when this returns, or,
     * if a thread is still blocked in the kernel then, when it comes back.
     *
     * @param context      what is being done, to start messages ("copying a to b")
     * @param handleBudget open directory handles above which idle ones are closed
     * @param leaseEnd     run once every handle is closed: gives the budget back
     * @param progress     told about once every {@link #PROGRESS_INTERVAL}, on the calling thread
     * @throws CsiException.DeadlineExceeded   when the deadline expires first; what was copied stays
     * @throws CsiException.Aborted            when a source entry was replaced while it was being copied
     * @throws CsiException.FailedPrecondition when the target root turns up inside the source, or a directory is
     *                                         the same as one above it (a bind mount)
     * @throws CsiException.Internal           on any other failure of a file-system call
     */
    static Outcome run(SecureDirectoryStream<Path> sourceHandle, Path sourceRoot, Object sourceKey,
                       CopyAttributes rootAttributes, Path targetRoot, Object targetKey, String context,
                       TreeWorkPool pool, Deadline deadline, int handleBudget, Runnable leaseEnd,
                       TreeCopier.Progress progress) {
        ParallelCopy run = new ParallelCopy(sourceHandle, sourceRoot, sourceKey, rootAttributes, targetRoot,
                targetKey, context, pool, deadline, handleBudget, leaseEnd);
        run.control.fork(() -> run.list(run.root));
        run.await(progress);
        Throwable failed = run.control.failure();
        if (failed != null) {
            throw run.control.describe(failed, run.tally.entries()
                    + " entries copied; the target holds a partial copy");
        }
        ContentCopy.Tally t = run.tally;
        progress.update(t.entries(), t.bytes.get());
        return new Outcome(t.files.get(), t.directories.get(), t.symlinks.get(), t.bytes.get(), t.skipped.get(),
                run.handles.peakOpen());
    }

    private void await(TreeCopier.Progress progress) {
        long interval = PROGRESS_INTERVAL.toNanos();
        try {
            // The threads check the deadline between calls; this bound is for a call that never returns (a hung
            // server), which no check between calls can notice.
            while (!control.awaitFinished(Math.max(0, Math.min(interval, deadline.timeRemaining(NANOSECONDS))))) {
                if (deadline.isExpired()) {
                    control.fail(RunControl.DEADLINE);
                    break;
                }
                try {
                    progress.update(tally.entries(), tally.bytes.get());
                } catch (RuntimeException e) {
                    control.fail(e);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            control.fail(e);
        }
        control.shutDown(() -> {
            handles.closeAll();
            leaseEnd.run();
        });
    }

    private String shown(Node dir, Path name) {
        Path relative = root.source.relativize(dir.source);
        return (relative.toString().isEmpty() ? name : relative.resolve(name)).toString();
    }

    private CsiException.Aborted replaced(Node dir, Path name) {
        return replaced(shown(dir, name));
    }

    private CsiException.Aborted replaced(String shown) {
        return new CsiException.Aborted(context + ": " + shown + ", or a directory above it, was replaced while it"
                + " was being copied; retry continues");
    }

    // --- tasks ---

    /** Lists {@code dir}, handing its entries out in batches while the listing goes on. */
    private void list(Node dir) throws IOException {
        SecureDirectoryStream<Path> handle;
        try {
            handle = handles.acquire(dir);
        } catch (NoSuchFileException e) {
            handle = null; // removed since its parent listed it: its copy stays empty
        } finally {
            if (dir.parent != null) {
                handles.unneed(dir.parent); // it was kept open for this first open of dir
            }
        }
        if (handle != null) {
            try {
                // A node is listed only right after its first open, so the stream has not been iterated, which a
                // stream allows only once.
                List<Path> batch = new ArrayList<>(BATCH);
                for (Path entry : handle) {
                    batch.add(entry.getFileName());
                    if (batch.size() == BATCH) {
                        dispatch(dir, batch);
                        batch = new ArrayList<>(BATCH);
                        control.checkpoint();
                    }
                }
                if (!batch.isEmpty()) {
                    dispatch(dir, batch);
                }
            } catch (DirectoryIteratorException e) {
                throw e.getCause();
            } finally {
                handles.release(dir, true);
            }
        } else {
            handles.unneed(dir);
        }
        finishedOne(dir);
    }

    private void dispatch(Node dir, List<Path> names) throws IOException {
        dir.pending.incrementAndGet();
        HandleCache.need(dir);
        if (dir.pending.get() > MAX_PENDING) {
            copyBatch(dir, names); // a huge directory: list no further ahead of the copying
        } else {
            control.fork(() -> copyBatch(dir, names));
        }
    }

    private void copyBatch(Node dir, List<Path> names) throws IOException {
        SecureDirectoryStream<Path> handle;
        try {
            handle = handles.acquire(dir);
        } catch (NoSuchFileException e) {
            handles.unneed(dir); // the directory was removed from the source, and these entries with it
            finishedOne(dir);
            return;
        }
        try {
            for (Path name : names) {
                control.checkpoint();
                copyEntry(handle, dir, name);
            }
        } finally {
            handles.release(dir, true);
        }
        finishedOne(dir);
    }

    private void copyEntry(SecureDirectoryStream<Path> handle, Node dir, Path name) throws IOException {
        ContentCopy.Entry entry = inspect(handle, dir, name);
        if (entry == null) {
            return; // removed since the listing
        }
        Path target = dir.target.resolve(name);
        BasicFileAttributes seen = entry.seen();
        try {
            if (seen.isDirectory()) {
                if (seen.fileKey().equals(targetKey)) {
                    throw new CsiException.FailedPrecondition(context + ": the target is inside the source, at "
                            + shown(dir, name));
                }
                for (Node above = dir; above != null; above = above.parent()) {
                    if (seen.fileKey().equals(above.key)) { // a bind mount of an ancestor: copying would not end
                        throw new CsiException.FailedPrecondition(context + ": " + shown(dir, name)
                                + " is the same directory as one above it");
                    }
                }
                Files.createDirectory(target);
                Node child = new Node(dir, name, dir.source.resolve(name), target, seen.fileKey(),
                        entry.attributes());
                dir.pending.incrementAndGet();
                HandleCache.need(dir); // to open the child through
                control.fork(() -> list(child));
            } else if (seen.isRegularFile()) {
                contents.copyFile(handle, name, entry, target);
            } else if (seen.isSymbolicLink()) {
                contents.copyLink(dir.source.resolve(name), entry, target);
            } else {
                tally.skipped.incrementAndGet();
                log.info("{}: skipping {}, a {}: only regular files, directories and symbolic links are copied",
                        context, shown(dir, name), entry.attributes().kind());
            }
        } catch (FileAlreadyExistsException e) {
            // Only this copy writes to the target, which was empty: the listing returned this name twice (NFS may,
            // for a directory that changes while it is read), and the first is copied.
            log.debug("{}: {} listed twice; copied once", context, shown(dir, name));
        }
    }

    /**
     * The entry's attributes: through the handle, and by path for what only a path offers, used when both lead to
     * the same inode. Null when the entry is gone.
     *
     * @throws CsiException.Aborted when the two keep disagreeing: the entry, or a directory above it, is being
     *                              replaced
     */
    private ContentCopy.Entry inspect(SecureDirectoryStream<Path> handle, Node dir, Path name) throws IOException {
        for (int attempt = 1; ; attempt++) {
            BasicFileAttributes seen = Dirs.lstat(handle, name);
            if (seen == null) {
                return null;
            }
            Map<String, Object> attrs;
            try {
                attrs = Files.readAttributes(dir.source.resolve(name), CopyAttributes.UNIX_ATTRIBUTES,
                        NOFOLLOW_LINKS);
            } catch (NoSuchFileException e) {
                attrs = null;
            }
            if (attrs != null && seen.fileKey().equals(attrs.get("fileKey"))) {
                return new ContentCopy.Entry(seen, CopyAttributes.of(attrs), (Integer) attrs.get("nlink"));
            }
            if (attempt == ATTEMPTS) {
                throw replaced(dir, name);
            }
            control.checkpoint();
        }
    }

    private void finishedOne(Node dir) throws IOException {
        Node node = dir;
        while (node.pending.decrementAndGet() == 0) {
            // every entry is in: a read-only mode or an mtime now sticks; the target root was not created by us
            control.checkpoint();
            node.attributes.applyTo(node.target, true, node.parent != null);
            if (node.parent == null) {
                control.finish();
                return;
            }
            tally.directories.incrementAndGet();
            node = node.parent();
        }
    }
}
