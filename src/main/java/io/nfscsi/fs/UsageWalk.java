package io.nfscsi.fs;

import io.nfscsi.posix.DirCalls;
import io.nfscsi.posix.ErrnoException;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * What one directory tree (a volume) uses, found by walking it: the space allocated to every entry, as {@code du}
 * counts it (st_blocks × 512, so a sparse file counts what it holds and a small file a whole block), and the number
 * of entries (files, directories, links, the top directory too), as {@code du --inodes} counts them. A file with
 * several hard links in the tree counts once.
 *
 * <p>Safe on a tree that a pod controls: every call is relative to an open directory and names one entry
 * ({@link DirCalls}: getdents64, then statx with {@code AT_SYMLINK_NOFOLLOW}), a directory is opened with
 * {@code O_NOFOLLOW}, so a symbolic link is counted as itself and never followed, and a directory on another file
 * system (a mount inside the tree) is counted but not entered. One thread, depth first; at most
 * {@link #HANDLE_BUDGET} directories are open at once, whatever the depth: the shallowest are closed first and
 * reopened, on the way back up, through their child's {@code ..}, checked to be the same directory (device and
 * inode) as before. A tree changed under the walk (a directory moved or removed) is counted as the walk found it:
 * entries that vanish between listing and stat are skipped.
 */
public final class UsageWalk {

    /** Directory descriptors a walk holds at once, at most. */
    static final int HANDLE_BUDGET = 32;
    /**
     * Files with more than one link remembered, to count each once; beyond this many, further ones count at each
     * link (a figure too high, never a memory without bound).
     */
    static final int MAX_REMEMBERED_LINKS = 1 << 20;

    private static final byte[] DOTDOT = "..".getBytes(StandardCharsets.UTF_8);

    /** The figures: bytes allocated, entries counted, and of these the directories. */
    public record Usage(long bytes, long inodes, long directories) {
        public Usage {
            if (bytes < 0 || inodes < 0 || directories < 0) {
                throw new IllegalArgumentException("usage figures must not be negative");
            }
        }
    }

    /** A directory on the walk's stack: its fd while open (-1 once closed for the budget), and the ones to visit. */
    private static final class Frame {
        final Frame parent;
        final String shown;
        final long ino;
        int fd;
        final Deque<byte[]> subdirs = new ArrayDeque<>();

        Frame(Frame parent, String shown, long ino, int fd) {
            this.parent = parent;
            this.shown = shown;
            this.ino = ino;
            this.fd = fd;
        }
    }

    private final DirCalls calls;
    private final BooleanSupplier stop;
    private final List<Frame> open = new ArrayList<>();
    private final Set<Long> linked = new HashSet<>();
    private long dev;
    private long bytes;
    private long inodes;
    private long directories;

    private UsageWalk(DirCalls calls, BooleanSupplier stop) {
        this.calls = calls;
        this.stop = stop;
    }

    /**
     * Walks {@code root}, a trusted directory (a final symbolic link in it is followed: the caller chose it).
     *
     * @param stop asked before every directory and every few hundred entries; true ends the walk
     * @throws InterruptedIOException when {@code stop} said so, or the thread was interrupted
     * @throws IOException            when the root cannot be opened or a directory cannot be read
     */
    public static Usage walk(Path root, BooleanSupplier stop) throws IOException {
        try (DirCalls calls = new DirCalls()) {
            return new UsageWalk(calls, stop).run(root);
        }
    }

    private Usage run(Path root) throws IOException {
        int rootFd = calls.openTrustedDir(root);
        Deque<Frame> stack = new ArrayDeque<>();
        try {
            DirCalls.Stat top = calls.fstat(rootFd, root);
            dev = top.dev();
            count(top);
            Frame first = new Frame(null, ".", top.ino(), rootFd);
            open.add(first);
            stack.push(first);
            list(first);
            while (!stack.isEmpty()) {
                checkStop();
                Frame frame = stack.peek();
                byte[] next = frame.subdirs.poll();
                if (next == null) {
                    stack.pop();
                    leave(frame);
                    continue;
                }
                Frame child = enter(frame, next);
                if (child != null) {
                    stack.push(child);
                    list(child);
                }
            }
            return new Usage(bytes, inodes, directories);
        } finally {
            for (Frame f : open) {
                calls.closeQuietly(f.fd);
            }
        }
    }

    /** Counts every entry of {@code frame}'s directory, and keeps its subdirectories on this device to enter. */
    private void list(Frame frame) throws IOException {
        int[] sinceCheck = {0};
        try {
            calls.forEachEntry(frame.fd, frame.shown, entry -> visit(frame, entry, sinceCheck));
        } catch (Stopped e) {
            checkStop();
            throw e;
        }
    }

    /** Thrown out of a directory's listing when the walk is to stop; {@link #list} turns it into what it says. */
    private static final class Stopped extends RuntimeException {
        Stopped() {
            super(null, null, false, false);
        }
    }

    private void visit(Frame frame, DirCalls.Dirent entry, int[] sinceCheck) throws ErrnoException {
        if (++sinceCheck[0] == 256) {
            sinceCheck[0] = 0;
            if (stop.getAsBoolean() || Thread.currentThread().isInterrupted()) {
                throw new Stopped();
            }
        }
        DirCalls.Stat s;
        try {
            // cached attributes are enough for a usage figure, and on NFS they are fresh from READDIRPLUS
            s = calls.statCached(frame.fd, entry.name(), frame.shown);
        } catch (ErrnoException e) {
            if (e.errno() == ErrnoException.ENOENT) {
                return; // removed since it was listed
            }
            throw e;
        }
        count(s);
        if (s.isDirectory() && s.dev() == dev) {
            frame.subdirs.push(entry.name());
        }
    }

    private void count(DirCalls.Stat s) {
        if (!s.isDirectory() && s.nlink() > 1) {
            if (linked.contains(s.ino())) {
                return;
            }
            if (linked.size() < MAX_REMEMBERED_LINKS) {
                linked.add(s.ino());
            }
        }
        inodes++;
        bytes += s.blocks() * 512;
        if (s.isDirectory()) {
            directories++;
        }
    }

    /** Opens the subdirectory {@code name} of {@code frame}; null when it is gone or no longer a directory. */
    private Frame enter(Frame frame, byte[] name) throws IOException {
        String shown = frame.shown.equals(".") ? new String(name, StandardCharsets.UTF_8)
                : frame.shown + "/" + new String(name, StandardCharsets.UTF_8);
        int fd;
        try {
            fd = calls.openDir(frame.fd, name, shown);
        } catch (ErrnoException e) {
            if (e.errno() == ErrnoException.ENOENT || e.errno() == ErrnoException.ENOTDIR
                    || e.errno() == ErrnoException.ELOOP) {
                return null; // replaced since it was listed (a link is never followed)
            }
            throw e;
        }
        long ino;
        try {
            DirCalls.Stat s = calls.fstat(fd, shown);
            if (s.dev() != dev) {
                calls.closeQuietly(fd); // something mounted over it since it was listed
                return null;
            }
            ino = s.ino();
        } catch (IOException | RuntimeException e) {
            calls.closeQuietly(fd);
            throw e;
        }
        Frame child = new Frame(frame, shown, ino, fd);
        open.add(child);
        if (open.size() > HANDLE_BUDGET) {
            Frame shallowest = open.get(1); // never the top: the walk started from a path it will not resolve again
            calls.closeQuietly(shallowest.fd);
            shallowest.fd = -1;
            open.remove(1);
        }
        return child;
    }

    /**
     * Done with {@code frame}: its parent, the next one worked on, is reopened through {@code frame}'s {@code ..}
     * if the budget had closed it. (The frame worked on is always the deepest open one, so never the one closed.)
     */
    private void leave(Frame frame) throws IOException {
        Frame parent = frame.parent;
        if (parent != null && parent.fd < 0) {
            int fd = calls.openDir(frame.fd, DOTDOT, frame.shown + "/..");
            DirCalls.Stat s;
            try {
                s = calls.fstat(fd, parent.shown);
            } catch (IOException | RuntimeException e) {
                calls.closeQuietly(fd);
                throw e;
            }
            if (s.dev() != dev || s.ino() != parent.ino) {
                calls.closeQuietly(fd);
                throw new IOException(frame.shown + " was moved out of " + parent.shown + " during the walk");
            }
            parent.fd = fd;
            open.add(open.indexOf(frame), parent);
        }
        open.remove(frame);
        calls.closeQuietly(frame.fd);
        frame.fd = -1;
    }

    private void checkStop() throws InterruptedIOException {
        if (stop.getAsBoolean() || Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("the walk was stopped after " + inodes + " entries");
        }
    }
}
