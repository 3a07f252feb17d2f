package io.nfscsi.snapshot;

import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.posix.DirCalls;
import io.nfscsi.posix.ErrnoException;
import io.nfscsi.posix.DirCalls.Stat;
import java.io.BufferedInputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Extracts a snapshot archive into a new, empty volume directory: archives written by {@link Archiver}, by
 * csi-driver-nfs (Go's archive/tar, gzip) and by GNU tar ({@code tar -C dir -czf a.tar.gz .}, names starting with
 * "./"), gzip (every member of a multi-member file), zstd or plain, told apart by their first bytes.
 *
 * <p>The archive is not trusted. Every entry is created relative to an open descriptor of its parent directory,
 * reached one name at a time from the target without following a symbolic link, and files are created with
 * {@code O_CREAT|O_EXCL|O_NOFOLLOW}: nothing is ever written outside the target directory. An entry is refused with
 * a {@link RejectedException} naming it when its name is absolute or has a ".." component, when its parent is a
 * symbolic link (one made earlier by the archive, or one already there) or not a directory, when it is a hard link
 * to something absent or outside, when it conflicts with an earlier entry of another kind, and when it is anything
 * but a file, a directory, a symbolic link or a hard link. Pax and GNU extended headers (long names, global
 * headers) are read, not restored.
 *
 * <p>What is restored: contents; all twelve mode bits; the numeric owner and group (names in the archive are
 * ignored, as {@code tar --numeric-owner} does: this process's user database says nothing about the volume's
 * users); modification times to the nanosecond, of symbolic links too. A directory's mode, owner and time are set
 * after everything in the archive is written, so that its contents do not move its time and a read-only mode does
 * not get in the way. An entry "./" sets the target directory's own mode, owner and time. When the file system
 * refuses to change owners (an NFS export with root squashing), the first refusal is logged and the rest of the
 * archive is restored without owners.
 *
 * <p>On a rejection or any other failure, what was restored so far stays: the caller deletes the partial volume.
 */
public final class Restorer {

    private static final Logger log = LoggerFactory.getLogger(Restorer.class);

    private static final int COPY_BUFFER = 1 << 20;
    private static final int OPEN_DIRECTORIES = 64;
    private static final int READ_AHEAD_CHUNK = 1 << 20;
    private static final int READ_AHEAD_CHUNKS = 4;

    /**
     * What was restored.
     *
     * @param entries entries restored, "./" included
     * @param bytes   bytes of file content written
     */
    public record Result(long entries, long bytes) {}

    /** The archive holds an entry that would escape the target directory, or that a volume cannot hold. */
    public static final class RejectedException extends IOException {
        private final String entry;

        RejectedException(String entry, String why) {
            super("archive entry \"" + entry + "\" " + why + "; refusing to restore it");
            this.entry = entry;
        }

        /** The entry's name as the archive has it. */
        public String entry() {
            return entry;
        }
    }

    /** SPECIAL: a FIFO or device, which GNU tar archives (csi-driver-nfs's tar mode) and a volume never gets. */
    private enum Kind { FILE, DIRECTORY, SYMLINK, HARDLINK, SPECIAL }

    /** Mode, owner and time of a directory, set once the whole archive is written. */
    private record DirectoryMeta(List<String> path, String entry, int mode, long uid, long gid, long seconds,
                                 int nanos) {}

    @FunctionalInterface
    private interface OwnerCall {
        void run() throws ErrnoException;
    }

    private final DirCalls fs;
    private final Path target;
    private final int root;
    private final Progress progress;
    /** Open descriptors of directories below the root, by relative path; the least recently used are closed. */
    private final Map<String, Integer> directories;
    /** Descriptors dropped from {@code directories}, closed once the current entry is done with them. */
    private final List<Integer> toClose = new ArrayList<>();
    private final List<DirectoryMeta> directoryMetas = new ArrayList<>();
    private final byte[] buffer = new byte[COPY_BUFFER];
    private boolean owners = true;
    private long entries;
    private long bytes;
    private long reportedEntries;
    private long reportedBytes;

    private Restorer(DirCalls fs, Path target, int root, Progress progress) {
        this.fs = fs;
        this.target = target;
        this.root = root;
        this.progress = progress;
        this.directories = new LinkedHashMap<>(OPEN_DIRECTORIES * 2, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, Integer> eldest) {
                if (size() > OPEN_DIRECTORIES) {
                    toClose.add(eldest.getValue());
                    return true;
                }
                return false;
            }
        };
    }

    /**
     * Restores the archive read from {@code in} into {@code targetDir}. Reads the archive up to its end-of-archive
     * marker; does not close {@code in}.
     *
     * @param targetDir an existing, empty directory; trusted (a link to it is followed), nothing below it is
     * @param pool      reads ahead, and lends the directory descriptors and read-ahead buffers (waited for)
     * @param progress  told how far it has got; {@link Progress#NONE} if nobody is listening
     * @throws RejectedException          when an entry is refused; the target then holds what came before it
     * @throws DirectoryNotEmptyException when {@code targetDir} is not empty
     * @throws IOException                when the archive is empty (0 bytes), corrupt or truncated, or the target
     *                                    cannot be written
     */
    public static Result restore(InputStream in, Path targetDir, TreeWorkPool pool, Progress progress)
            throws IOException {
        // the open directories, the root, a file being written and the one being linked to
        try (Descriptors _ = Descriptors.lease(pool, OPEN_DIRECTORIES + 3); DirCalls fs = new DirCalls()) {
            int root = fs.openTrustedDir(targetDir);
            Restorer restorer = new Restorer(fs, targetDir, root, progress);
            try {
                if (!fs.list(root, targetDir).isEmpty()) {
                    throw new DirectoryNotEmptyException(targetDir.toString());
                }
                try (InputStream archive = decompressed(in, pool)) {
                    restorer.extract(new TarArchiveInputStream(archive, StandardCharsets.UTF_8.name()));
                }
                restorer.finishDirectories();
                progress.update(restorer.entries, restorer.bytes);
                return new Result(restorer.entries, restorer.bytes);
            } finally {
                restorer.directories.values().forEach(fs::closeQuietly);
                restorer.toClose.forEach(fs::closeQuietly);
                fs.closeQuietly(root);
            }
        }
    }

    /** The tar stream inside {@code in}, decompressed on a thread of its own; closing it leaves {@code in} open. */
    private static InputStream decompressed(InputStream in, TreeWorkPool pool) throws IOException {
        BufferedInputStream buffered = new BufferedInputStream(new KeepOpen(in), 1 << 16);
        buffered.mark(4);
        byte[] magic = buffered.readNBytes(4);
        buffered.reset();
        if (magic.length == 0) {
            // Even an empty volume's archive holds "./"; zero bytes is a failed copy, not an empty snapshot.
            throw new IOException("the archive is empty (0 bytes)");
        }
        InputStream tar;
        if (magic.length >= 2 && (magic[0] & 0xff) == 0x1f && (magic[1] & 0xff) == 0x8b) {
            tar = new GZIPInputStream(buffered, 1 << 16); // reads every member of a multi-member file
        } else if (magic.length == 4 && (magic[0] & 0xff) == 0x28 && (magic[1] & 0xff) == 0xb5
                && (magic[2] & 0xff) == 0x2f && (magic[3] & 0xff) == 0xfd) {
            tar = Zstd.decompress(buffered);
        } else {
            tar = buffered;
        }
        return new ReadAheadInputStream(tar, READ_AHEAD_CHUNK, READ_AHEAD_CHUNKS, pool);
    }

    private void extract(TarArchiveInputStream tar) throws IOException {
        TarArchiveEntry entry;
        while ((entry = tar.getNextEntry()) != null) {
            restore(entry, tar);
            for (int fd : toClose) {
                fs.closeQuietly(fd);
            }
            toClose.clear();
            entries++;
            if (entries - reportedEntries >= Archiver.PROGRESS_ENTRIES
                    || bytes - reportedBytes >= Archiver.PROGRESS_BYTES) {
                progress.update(entries, bytes);
                reportedEntries = entries;
                reportedBytes = bytes;
            }
        }
    }

    private void restore(TarArchiveEntry entry, InputStream content) throws IOException {
        String name = entry.getName();
        Kind kind = kind(entry);
        List<String> path = components(name, name, "its name");
        if (kind == Kind.SPECIAL) {
            // the archiver skips these too; refusing them would refuse csi-driver-nfs snapshots of such volumes
            org.slf4j.LoggerFactory.getLogger(Restorer.class).info("restore: skipping {} (a FIFO or device)", name);
            return;
        }
        if (path.isEmpty()) {
            if (kind != Kind.DIRECTORY) {
                throw new RejectedException(name, "names the volume's directory itself but is not a directory");
            }
            directoryMetas.add(meta(path, entry));
            return;
        }
        int parent = directory(path, path.size() - 1, name, true);
        byte[] last = bytes(path.getLast());
        switch (kind) {
            case DIRECTORY -> makeDirectory(entry, path, parent, last);
            case FILE -> file(entry, content, parent, last);
            case SYMLINK -> symlink(entry, parent, last);
            case HARDLINK -> hardLink(entry, path, parent, last);
            case SPECIAL -> throw new IllegalStateException("special entries return above");
        }
    }

    private static Kind kind(TarArchiveEntry entry) throws RejectedException {
        byte type = entry.getLinkFlag();
        boolean plain = type == TarConstants.LF_NORMAL || type == TarConstants.LF_OLDNORM;
        if (type == TarConstants.LF_DIR || plain && entry.getName().endsWith("/")) {
            return Kind.DIRECTORY;
        }
        if (type == TarConstants.LF_SYMLINK) {
            return Kind.SYMLINK;
        }
        if (type == TarConstants.LF_LINK) {
            return Kind.HARDLINK;
        }
        if ((plain || type == TarConstants.LF_CONTIG) && !entry.isSparse()) {
            return Kind.FILE;
        }
        if (type == TarConstants.LF_CHR || type == TarConstants.LF_BLK || type == TarConstants.LF_FIFO) {
            return Kind.SPECIAL;
        }
        String what = entry.isSparse() ? "a sparse file" : "of tar type '" + (char) type + "'";
        throw new RejectedException(entry.getName(), "is " + what + ", which a volume snapshot does not hold");
    }

    /**
     * The names of a path in the archive, without "." and empty ones; an empty list is the target itself.
     *
     * @param entry the entry being restored, for the message
     * @param what  which of its paths this is ("its name", "its link target")
     */
    private static List<String> components(String path, String entry, String what) throws RejectedException {
        if (path.isEmpty()) {
            throw new RejectedException(entry, "has an empty " + what.substring(4));
        }
        if (path.indexOf('\0') >= 0) {
            throw new RejectedException(entry, "has a NUL character in " + what);
        }
        if (path.startsWith("/")) {
            throw new RejectedException(entry, "has an absolute path as " + what);
        }
        List<String> names = new ArrayList<>();
        for (String name : path.split("/")) {
            if (name.equals("..")) {
                throw new RejectedException(entry, "has a \"..\" component in " + what);
            }
            if (!name.isEmpty() && !name.equals(".")) {
                names.add(name);
            }
        }
        return names;
    }

    /**
     * The descriptor of the directory made of the first {@code count} names of {@code path}, opened from the root
     * one name at a time without following links, and created (mode 0755) where missing if {@code create}.
     */
    private int directory(List<String> path, int count, String entry, boolean create) throws IOException {
        if (count == 0) {
            return root;
        }
        String key = String.join("/", path.subList(0, count));
        Integer cached = directories.get(key);
        if (cached != null) {
            return cached;
        }
        int parent = directory(path, count - 1, entry, create);
        byte[] name = bytes(path.get(count - 1));
        int fd;
        try {
            fd = fs.openDir(parent, name, key);
        } catch (ErrnoException e) {
            if (e.errno() != ErrnoException.ENOENT || !create) {
                throw refusal(entry, key, e);
            }
            try {
                fs.mkdir(parent, name, 0755, key);
            } catch (ErrnoException raced) {
                if (raced.errno() != ErrnoException.EEXIST) {
                    throw raced;
                }
            }
            try {
                fd = fs.openDir(parent, name, key);
            } catch (ErrnoException again) {
                throw refusal(entry, key, again);
            }
        }
        directories.put(key, fd);
        return fd;
    }

    private static IOException refusal(String entry, String directory, ErrnoException e) {
        return switch (e.errno()) {
            case ErrnoException.ELOOP -> new RejectedException(entry, "would be reached through the symbolic link " + directory);
            case ErrnoException.ENOTDIR -> new RejectedException(entry, "is below " + directory + ", which is not a directory");
            case ErrnoException.ENOENT -> new RejectedException(entry, "links into " + directory
                    + ", which does not exist before it in the archive");
            default -> e;
        };
    }

    private void makeDirectory(TarArchiveEntry entry, List<String> path, int parent, byte[] name) throws IOException {
        try {
            fs.mkdir(parent, name, 0700, entry.getName());
        } catch (ErrnoException e) {
            if (e.errno() != ErrnoException.EEXIST) {
                throw e;
            }
            if (!fs.stat(parent, name, entry.getName()).isDirectory()) {
                throw new RejectedException(entry.getName(), "is a directory, but an earlier entry of that name is not");
            }
        }
        directoryMetas.add(meta(path, entry));
    }

    private void file(TarArchiveEntry entry, InputStream content, int parent, byte[] name) throws IOException {
        String shown = entry.getName();
        int fd = create(entry, parent, name);
        try {
            int n;
            while ((n = content.read(buffer)) > 0) {
                fs.writeFully(fd, buffer, 0, n, shown);
                bytes += n;
                if (bytes - reportedBytes >= Archiver.PROGRESS_BYTES) {
                    progress.update(entries, bytes);
                    reportedBytes = bytes;
                }
            }
            long uid = entry.getLongUserId();
            long gid = entry.getLongGroupId();
            own(() -> fs.fchown(fd, uid, gid, shown));
            fs.fchmod(fd, entry.getMode(), shown); // after chown, which clears setuid and setgid
            Instant mtime = entry.getLastModifiedTime().toInstant();
            fs.setMtime(fd, mtime.getEpochSecond(), mtime.getNano(), shown);
        } catch (IOException | RuntimeException e) {
            fs.closeQuietly(fd);
            throw e;
        }
        fs.close(fd, shown);
    }

    private int create(TarArchiveEntry entry, int parent, byte[] name) throws IOException {
        try {
            return fs.createFile(parent, name, entry.getName());
        } catch (ErrnoException e) {
            if (e.errno() != ErrnoException.EEXIST) {
                throw e;
            }
            removeEarlier(entry, parent, name);
            return fs.createFile(parent, name, entry.getName());
        }
    }

    private void symlink(TarArchiveEntry entry, int parent, byte[] name) throws IOException {
        String shown = entry.getName();
        String linkTarget = entry.getLinkName();
        if (linkTarget.isEmpty() || linkTarget.indexOf('\0') >= 0) {
            throw new RejectedException(shown, "is a symbolic link with an empty target or a NUL in it");
        }
        byte[] target = bytes(linkTarget);
        try {
            fs.symlink(target, parent, name, shown);
        } catch (ErrnoException e) {
            if (e.errno() != ErrnoException.EEXIST) {
                throw e;
            }
            removeEarlier(entry, parent, name);
            fs.symlink(target, parent, name, shown);
        }
        long uid = entry.getLongUserId();
        long gid = entry.getLongGroupId();
        own(() -> fs.chown(parent, name, uid, gid, shown));
        Instant mtime = entry.getLastModifiedTime().toInstant();
        fs.setMtime(parent, name, mtime.getEpochSecond(), mtime.getNano(), shown);
    }

    private void hardLink(TarArchiveEntry entry, List<String> path, int parent, byte[] name) throws IOException {
        String shown = entry.getName();
        List<String> targetPath = components(entry.getLinkName(), shown, "its link target");
        if (targetPath.isEmpty()) {
            throw new RejectedException(shown, "is a hard link to the volume's directory");
        }
        if (targetPath.equals(path)) {
            return; // a link to itself: it is there already
        }
        int targetParent = directory(targetPath, targetPath.size() - 1, shown, false);
        byte[] targetName = bytes(targetPath.getLast());
        Stat targetStat;
        try {
            targetStat = fs.stat(targetParent, targetName, shown);
        } catch (ErrnoException e) {
            if (e.errno() == ErrnoException.ENOENT) {
                throw new RejectedException(shown, "is a hard link to " + entry.getLinkName()
                        + ", which does not exist before it in the archive");
            }
            throw e;
        }
        if (targetStat.isDirectory()) {
            throw new RejectedException(shown, "is a hard link to a directory");
        }
        try {
            fs.link(targetParent, targetName, parent, name, shown);
        } catch (ErrnoException e) {
            if (e.errno() != ErrnoException.EEXIST) {
                throw e;
            }
            removeEarlier(entry, parent, name);
            fs.link(targetParent, targetName, parent, name, shown);
        }
    }

    /** An entry's name is taken already, by an earlier entry: a non-directory is replaced, as tar replaces it. */
    private void removeEarlier(TarArchiveEntry entry, int parent, byte[] name) throws IOException {
        if (fs.stat(parent, name, entry.getName()).isDirectory()) {
            throw new RejectedException(entry.getName(), "would replace a directory of the same name");
        }
        fs.unlink(parent, name, entry.getName());
    }

    private static DirectoryMeta meta(List<String> path, TarArchiveEntry entry) {
        Instant mtime = entry.getLastModifiedTime().toInstant();
        return new DirectoryMeta(path, entry.getName(), entry.getMode(), entry.getLongUserId(),
                entry.getLongGroupId(), mtime.getEpochSecond(), mtime.getNano());
    }

    /** Sets every directory's owner, mode and time, last entry first (deeper ones come later in an archive). */
    private void finishDirectories() throws IOException {
        for (DirectoryMeta meta : directoryMetas.reversed()) {
            int fd = directory(meta.path(), meta.path().size(), meta.entry(), false);
            String shown = meta.entry();
            own(() -> fs.fchown(fd, meta.uid(), meta.gid(), shown));
            fs.fchmod(fd, meta.mode(), shown);
            fs.setMtime(fd, meta.seconds(), meta.nanos(), shown);
            for (int dropped : toClose) {
                fs.closeQuietly(dropped);
            }
            toClose.clear();
        }
    }

    /** Runs a chown; the first one the file system refuses turns owners off for the rest of the restore. */
    private void own(OwnerCall chown) throws ErrnoException {
        if (!owners) {
            return;
        }
        try {
            chown.run();
        } catch (ErrnoException e) {
            if (e.errno() != ErrnoException.EPERM && e.errno() != ErrnoException.EINVAL) {
                throw e;
            }
            owners = false;
            log.warn("restore into {}: the file system refuses to set owners ({}); is the share exported with root"
                    + " squashing? Restoring the rest without owners", target, e.getMessage());
        }
    }

    private static byte[] bytes(String name) {
        return name.getBytes(StandardCharsets.UTF_8);
    }

    /** Lets the decompressing streams be closed (ending their native inflaters) without closing the caller's. */
    private static final class KeepOpen extends FilterInputStream {
        KeepOpen(InputStream in) {
            super(in);
        }

        @Override
        public void close() {
            // the caller's stream: the caller closes it
        }
    }
}
