package io.nfscsi.fs;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import java.io.IOException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The open directory handles of one parallel tree walk ({@link ParallelCopy}, {@link ParallelDelete}). A handle is
 * opened on demand, through its parent's handle (or, going up, through its child's {@code ..}) with
 * {@code O_NOFOLLOW}, and must have the device and inode its directory had when first opened. A handle that no
 * work needs any more is closed at once; one that is merely unused is kept, and closed, least recently released
 * first, once more than the budget are open. No step recurses, so neither the Java stack nor the number of open
 * handles grows with the tree's depth: a tree deeper than the budget costs extra opens instead.
 *
 * <p>Lock order: a thread holds at most one directory's lock at a time, and never while closing idle handles.
 */
final class HandleCache {

    /** A directory of the walk. Its handle may be closed while no one uses it, and reopened. */
    static class Dir {
        final Dir parent;
        final Path name;
        // guarded by this
        /** Device and inode; null until first opened, after which every reopen must match it. */
        Object key;
        SecureDirectoryStream<Path> handle;
        int users;
        /** Work that needs the handle; once none does and no one uses it, it is closed rather than kept idle. */
        int needed = 1;
        boolean queuedIdle;

        Dir(Dir parent, Path name, Object key) {
            this.parent = parent;
            this.name = name;
            this.key = key;
        }
    }

    private final Dir root;
    private final int budget;
    private final Function<Dir, RuntimeException> replaced;
    /** Directories whose handle was open and unused when last released, oldest first: the order of closing. */
    private final ConcurrentLinkedQueue<Dir> idle = new ConcurrentLinkedQueue<>();
    private final Set<SecureDirectoryStream<Path>> openHandles = ConcurrentHashMap.newKeySet();
    private final AtomicInteger open = new AtomicInteger();
    private final AtomicInteger peakOpen = new AtomicInteger();
    private final AtomicLong releases = new AtomicLong();
    private final AtomicBoolean sweeping = new AtomicBoolean();

    /**
     * @param root       the walk's top directory, whose handle stays open (never idle) until {@link #closeAll}
     * @param budget     open handles above which idle ones are closed
     * @param replaced   the failure for a directory reopened with another device and inode than it had
     */
    HandleCache(Dir root, SecureDirectoryStream<Path> rootHandle, int budget, Function<Dir, RuntimeException> replaced) {
        this.root = root;
        this.budget = budget;
        this.replaced = replaced;
        root.handle = rootHandle;
        root.users = 1;
    }

    /** The most handles (the root's excepted) that were open at once. */
    int peakOpen() {
        return peakOpen.get();
    }

    /** One more piece of work needs {@code dir}'s handle. */
    static void need(Dir dir) {
        synchronized (dir) {
            dir.needed++;
        }
    }

    /** A piece of work that needed {@code dir}'s handle no longer does, without having used it. */
    void unneed(Dir dir) {
        synchronized (dir) {
            dir.needed--;
            closeIfUnneeded(dir);
        }
    }

    /** Caller holds {@code dir}'s lock. */
    private void closeIfUnneeded(Dir dir) {
        if (dir.needed == 0 && dir.users == 0 && dir.handle != null && dir != root) {
            close(dir.handle);
            dir.handle = null;
        }
    }

    /** Holds {@code dir}'s handle open until {@link #release}, opening it if it is closed. */
    SecureDirectoryStream<Path> acquire(Dir dir) throws IOException {
        SecureDirectoryStream<Path> handle = tryUse(dir);
        if (handle != null) {
            return handle;
        }
        // Walk up to the nearest open ancestor (the root always is), then open downwards.
        Deque<Dir> closedOnes = new ArrayDeque<>();
        Dir above = dir;
        do {
            closedOnes.push(above);
            above = above.parent;
            handle = tryUse(above);
        } while (handle == null);
        while (!closedOnes.isEmpty()) {
            Dir next = closedOnes.pop();
            SecureDirectoryStream<Path> nextHandle;
            try {
                synchronized (next) {
                    if (next.handle == null) {
                        next.handle = openVerified(handle, next.name, next);
                    }
                    next.users++;
                    nextHandle = next.handle;
                }
            } finally {
                release(above, false);
                closeIdleOverBudget(); // at each step: a long chain must not have all of itself open at once
            }
            above = next;
            handle = nextHandle;
        }
        return handle;
    }

    /**
     * Holds the parent of {@code dir} open. Going up, the parent is reopened through the child's {@code ..}, one
     * call, rather than by walking down from the nearest open ancestor.
     */
    SecureDirectoryStream<Path> acquireParent(Dir dir) throws IOException {
        Dir parent = dir.parent;
        SecureDirectoryStream<Path> handle = tryUse(parent);
        if (handle != null) {
            return handle;
        }
        SecureDirectoryStream<Path> child = tryUse(dir);
        if (child == null) {
            return acquire(parent);
        }
        try {
            synchronized (parent) {
                if (parent.handle == null) {
                    parent.handle = openVerified(child, dir.name.getFileSystem().getPath(".."), parent);
                }
                parent.users++;
                return parent.handle;
            }
        } finally {
            release(dir, false);
            closeIdleOverBudget();
        }
    }

    private static SecureDirectoryStream<Path> tryUse(Dir dir) {
        synchronized (dir) {
            if (dir.handle == null) {
                return null;
            }
            dir.users++;
            return dir.handle;
        }
    }

    /** Ends a use of {@code dir}'s handle; {@code done} also ends a piece of work that needed it. */
    void release(Dir dir, boolean done) {
        synchronized (dir) {
            if (done) {
                dir.needed--;
            }
            dir.users--;
            if (dir.users > 0 || dir.handle == null) {
                return;
            }
            if (dir.needed == 0) {
                closeIfUnneeded(dir);
                return;
            }
            if (dir.queuedIdle) {
                return;
            }
            dir.queuedIdle = true;
        }
        idle.add(dir);
        if (releases.incrementAndGet() % (4L * budget + 64) == 0) {
            dropClosedFromIdle();
        }
    }

    /**
     * Drops the directories whose handle was closed from the idle queue, where they would otherwise pile up (one
     * per directory of the tree) until closing idle handles happens to reach them.
     */
    private void dropClosedFromIdle() {
        if (!sweeping.compareAndSet(false, true)) {
            return;
        }
        try {
            idle.removeIf(dir -> {
                synchronized (dir) {
                    if (dir.handle != null) {
                        return false;
                    }
                    dir.queuedIdle = false;
                    return true;
                }
            });
        } finally {
            sweeping.set(false);
        }
    }

    /** Opens {@code name} in {@code from} without following a link; caller holds {@code dir}'s lock. */
    private SecureDirectoryStream<Path> openVerified(SecureDirectoryStream<Path> from, Path name, Dir dir)
            throws IOException {
        SecureDirectoryStream<Path> handle = from.newDirectoryStream(name, NOFOLLOW_LINKS);
        try {
            Object key = Dirs.key(handle);
            if (dir.key == null) {
                dir.key = key;
            } else if (!dir.key.equals(key)) {
                throw replaced.apply(dir);
            }
        } catch (IOException | RuntimeException e) {
            Dirs.closeQuietly(handle);
            throw e;
        }
        openHandles.add(handle);
        peakOpen.accumulateAndGet(open.incrementAndGet(), Math::max);
        return handle;
    }

    /** Closes {@code dir}'s handle now, whether or not work still needs it (it is reopened if so). */
    void closeHandle(Dir dir) {
        synchronized (dir) {
            if (dir.handle != null) {
                close(dir.handle);
                dir.handle = null;
            }
        }
    }

    private void close(SecureDirectoryStream<Path> handle) {
        if (openHandles.remove(handle)) {
            open.decrementAndGet();
        }
        Dirs.closeQuietly(handle);
    }

    /** Closes idle handles, least recently released first, while more than the budget are open. */
    private void closeIdleOverBudget() {
        // Never called under a directory's lock: it takes other directories' locks, and two threads each holding
        // one lock while wanting the other's would deadlock.
        while (open.get() > budget) {
            Dir dir = idle.poll();
            if (dir == null) {
                return;
            }
            synchronized (dir) {
                dir.queuedIdle = false;
                if (dir.users == 0 && dir.handle != null) {
                    close(dir.handle);
                    dir.handle = null;
                }
            }
        }
    }

    /** Closes every handle, the root's too; once no task of the walk can still use one. */
    void closeAll() {
        for (SecureDirectoryStream<Path> handle : openHandles) {
            close(handle);
        }
        Dirs.closeQuietly(root.handle);
    }
}
