package io.nfscsi.snapshot;

import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.posix.DirCalls;
import io.nfscsi.posix.ErrnoException;
import io.nfscsi.posix.DirCalls.Stat;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Writes a volume's directory tree as a tar archive, in the form csi-driver-nfs and GNU tar read: a first entry
 * "./" for the volume's own directory (its mode, owner and time), then every entry below it by its relative name
 * ("a", "a/b"), directories before their contents, names of a directory in byte order. POSIX (pax) extended
 * headers carry what the ustar header cannot hold: names over 100 bytes, sub-second modification times, large
 * numbers.
 *
 * <p>What is kept: regular files, directories, symbolic links (as links, never followed), hard links (the second
 * and later names of a file become hard-link entries naming the first), all twelve mode bits, the numeric owner and
 * group, and modification times to the nanosecond. User and group names are left empty, so that an extracting GNU
 * tar uses the numbers rather than mapping names through its own, unrelated, user database.
 *
 * <p>What is skipped, with a log line, and counted in {@link Result#skipped()}: sockets, FIFOs and devices (a
 * restore could not recreate them, and csi-driver-nfs refuses them); entries whose name or link target is not valid
 * UTF-8 (tar's extended headers cannot carry them faithfully); and entries that vanish or change type while the
 * tree is being read: the volume may be in use. A file that shrinks while it is read is padded with zeros to the
 * size its header already announced, and one that grows is cut at that size, as GNU tar does.
 *
 * <p>The tree is read through directory descriptors, one name at a time, never following a link: a pod that swaps a
 * directory for a symbolic link while the snapshot is taken cannot make it archive anything outside the volume.
 */
public final class Archiver {

    private static final Logger log = LoggerFactory.getLogger(Archiver.class);

    /** Progress is reported after this many entries, or this many bytes, whichever comes first. */
    static final int PROGRESS_ENTRIES = 4096;
    static final long PROGRESS_BYTES = 64L << 20;
    private static final int COPY_BUFFER = 1 << 20;
    /** Directory descriptors kept open down the current path; deeper ones are reopened from their parent. */
    static final int OPEN_DIRECTORIES = 128;

    /**
     * What was archived.
     *
     * @param entries entries written, the volume's own directory included
     * @param bytes   bytes of file content written
     * @param skipped entries left out: special files, vanished entries, names that are not UTF-8
     */
    public record Result(long entries, long bytes, long skipped) {}

    private record FileId(long dev, long ino) {}

    /** One directory on the path being walked; {@code fd} is -1 while it is closed to save descriptors. */
    private static final class Frame {
        final byte[] name;
        final String prefix;
        final Stat stat;
        int fd;

        Frame(byte[] name, String prefix, Stat stat, int fd) {
            this.name = name;
            this.prefix = prefix;
            this.stat = stat;
            this.fd = fd;
        }
    }

    private final DirCalls fs;
    private final TarArchiveOutputStream tar;
    private final Progress progress;
    private final Map<FileId, String> linkTargets = new HashMap<>();
    private final List<Frame> path = new ArrayList<>();
    private final byte[] buffer = new byte[COPY_BUFFER];
    private final CharsetDecoder utf8 = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT);
    private long entries;
    private long bytes;
    private long skipped;
    private long reportedEntries;
    private long reportedBytes;

    private Archiver(DirCalls fs, TarArchiveOutputStream tar, Progress progress) {
        this.fs = fs;
        this.tar = tar;
        this.progress = progress;
    }

    /**
     * Archives the contents of {@code sourceDir} into {@code out}, compressed. The compressed stream is complete
     * when this returns; {@code out} is flushed but not closed, and on failure holds a partial archive, which the
     * caller deletes.
     *
     * @param sourceDir   the volume's directory; trusted (a link to it is followed), nothing below it is
     * @param compression {@link Compression#GZIP} compresses on the pool's compressing threads
     * @param pool        compresses, and lends the directory descriptors (waited for) and compression buffers
     * @param progress    told how far it has got; {@link Progress#NONE} if nobody is listening
     * @throws IOException when the source cannot be read (other than entries vanishing), or {@code out} written;
     *                     for {@link Compression#ZSTD}, also when zstd's native library cannot be loaded; an
     *                     {@link java.io.InterruptedIOException} when interrupted while waiting for the pool
     */
    public static Result archive(Path sourceDir, OutputStream out, Compression compression, TreeWorkPool pool,
                                 Progress progress) throws IOException {
        try (Descriptors _ = Descriptors.lease(pool, OPEN_DIRECTORIES + 2); DirCalls fs = new DirCalls()) {
            int root = fs.openTrustedDir(sourceDir);
            OutputStream compressed = null;
            try {
                compressed = compression.compress(new KeepOpen(out), pool);
                // UTF-8, as pax requires for its records and as GNU tar writes names on a UTF-8 system.
                TarArchiveOutputStream tar = new TarArchiveOutputStream(compressed, StandardCharsets.UTF_8.name());
                compressed = tar;
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                Archiver archiver = new Archiver(fs, tar, progress);
                Stat rootStat = fs.fstat(root, sourceDir);
                archiver.put(archiver.header("./", TarConstants.LF_DIR, rootStat));
                archiver.entries++;
                archiver.path.add(new Frame(new byte[0], "", rootStat, root));
                root = -1; // walk() owns it now, and closes it
                archiver.walk();
                tar.finish();
                tar.close(); // finishes the compressed stream; KeepOpen leaves out open
                compressed = null;
                progress.update(archiver.entries, archiver.bytes);
                return new Result(archiver.entries, archiver.bytes, archiver.skipped);
            } finally {
                fs.closeQuietly(root);
                if (compressed != null) {
                    closeAfterFailure(compressed);
                }
            }
        }
    }

    /** Closes the compressing stream after a failure, so that its threads end; what it writes then is moot. */
    private static void closeAfterFailure(OutputStream compressed) {
        try {
            compressed.close();
        } catch (IOException | RuntimeException e) {
            log.debug("closing the archive stream after a failure: {}", e.toString());
        }
    }

    /**
     * Writes every entry below the root, depth first. {@code path} holds the directories from the root down to the
     * one being listed; each level's remaining names are kept on {@code pending}.
     */
    private void walk() throws IOException {
        List<ArrayDeque<byte[]>> pending = new ArrayList<>();
        pending.add(listSorted(path.getFirst()));
        try {
            while (!pending.isEmpty()) {
                ArrayDeque<byte[]> names = pending.getLast();
                if (names == null || names.isEmpty()) {
                    pending.removeLast();
                    closeFrame(path.removeLast());
                    continue;
                }
                Frame dir = path.getLast();
                Frame child = visit(dir, names.pop());
                if (child != null) {
                    path.add(child);
                    limitOpenDirectories();
                    pending.add(listSorted(child));
                }
            }
        } finally {
            for (Frame frame : path) {
                closeFrame(frame);
            }
            path.clear();
        }
    }

    private void closeFrame(Frame frame) {
        fs.closeQuietly(frame.fd);
        frame.fd = -1;
    }

    /** The names in {@code dir}, sorted by their bytes; null when it cannot be listed because it vanished. */
    private ArrayDeque<byte[]> listSorted(Frame dir) throws IOException {
        List<byte[]> names;
        try {
            names = fs.list(fd(dir), shown(dir.prefix));
        } catch (ErrnoException e) {
            if (!vanished(e)) {
                throw e;
            }
            log.info("snapshot: skipping the rest of {}: {}", shown(dir.prefix), e.getMessage());
            return null;
        } catch (ChangedException e) {
            log.info("snapshot: skipping the rest of {}: {}", shown(dir.prefix), e.getMessage());
            return null;
        }
        names.sort(Arrays::compareUnsigned);
        return new ArrayDeque<>(names);
    }

    /** Archives one entry of {@code dir}; returns the frame to descend into when it is a directory. */
    private Frame visit(Frame dir, byte[] rawName) throws IOException {
        String name = decode(rawName);
        if (name == null) {
            skip(dir.prefix + escape(rawName), "its name is not valid UTF-8");
            return null;
        }
        String relative = dir.prefix + name;
        int dirFd;
        Stat stat;
        try {
            dirFd = fd(dir);
            stat = fs.stat(dirFd, rawName, relative);
        } catch (ErrnoException e) {
            if (vanished(e)) {
                skip(relative, "it vanished while the snapshot was taken");
                return null;
            }
            throw e;
        } catch (ChangedException e) {
            skip(relative, e.getMessage());
            return null;
        }
        if (stat.nlink() > 1 && !stat.isDirectory()) {
            String first = linkTargets.get(new FileId(stat.dev(), stat.ino()));
            if (first != null) {
                TarArchiveEntry link = header(relative, TarConstants.LF_LINK, stat);
                link.setLinkName(first);
                put(link);
                count(0);
                return null;
            }
        }
        return switch (stat.type()) {
            case DirCalls.S_IFDIR -> directory(dirFd, rawName, relative, stat);
            case DirCalls.S_IFREG -> {
                file(dirFd, rawName, relative);
                yield null;
            }
            case DirCalls.S_IFLNK -> {
                symlink(dirFd, rawName, relative, stat);
                yield null;
            }
            default -> {
                skip(relative, "it is a " + kind(stat.type()) + ", which an archive does not keep");
                yield null;
            }
        };
    }

    private Frame directory(int parentFd, byte[] rawName, String relative, Stat listed) throws IOException {
        for (Frame ancestor : path) {
            if (ancestor.stat.sameFile(listed)) {
                skip(relative, "it is the same directory as " + shown(ancestor.prefix) + " (a bind mount loop)");
                return null;
            }
        }
        int fd;
        try {
            fd = fs.openDir(parentFd, rawName, relative);
        } catch (ErrnoException e) {
            if (vanished(e) || e.errno() == ErrnoException.ELOOP || e.errno() == ErrnoException.ENOTDIR) {
                skip(relative, "it vanished or changed while the snapshot was taken");
                return null;
            }
            throw e;
        }
        try {
            Stat stat = fs.fstat(fd, relative);
            put(header(relative + "/", TarConstants.LF_DIR, stat));
            count(0);
            Frame child = new Frame(rawName, relative + "/", stat, fd);
            fd = -1;
            return child;
        } finally {
            fs.closeQuietly(fd);
        }
    }

    private void file(int dirFd, byte[] rawName, String relative) throws IOException {
        int fd;
        try {
            fd = fs.openRead(dirFd, rawName, relative);
        } catch (ErrnoException e) {
            if (vanished(e) || e.errno() == ErrnoException.ELOOP) {
                skip(relative, "it vanished or changed while the snapshot was taken");
                return;
            }
            throw e;
        }
        try {
            Stat stat = fs.fstat(fd, relative);
            if (!stat.isRegular()) {
                skip(relative, "it changed type while the snapshot was taken");
                return;
            }
            TarArchiveEntry entry = header(relative, TarConstants.LF_NORMAL, stat);
            entry.setSize(stat.size());
            tar.putArchiveEntry(entry);
            long copied = copy(fd, relative, stat.size());
            tar.closeArchiveEntry();
            if (stat.nlink() > 1) {
                linkTargets.put(new FileId(stat.dev(), stat.ino()), relative);
            }
            count(copied);
        } finally {
            fs.closeQuietly(fd);
        }
    }

    /** Copies exactly {@code size} bytes: what the file has, then zeros if it shrank meanwhile. */
    private long copy(int fd, String relative, long size) throws IOException {
        long done = 0;
        while (done < size) {
            int n;
            try {
                n = fs.read(fd, buffer, 0, (int) Math.min(buffer.length, size - done), relative);
            } catch (ErrnoException e) {
                if (!vanished(e)) {
                    throw e;
                }
                n = 0;
            }
            if (n == 0) {
                log.warn("snapshot: {} shrank from {} to {} bytes while it was read; padding it with zeros",
                        relative, size, done);
                Arrays.fill(buffer, (byte) 0);
                while (done < size) {
                    int zeros = (int) Math.min(buffer.length, size - done);
                    tar.write(buffer, 0, zeros);
                    done += zeros;
                }
                return size;
            }
            tar.write(buffer, 0, n);
            done += n;
            if (bytes + done - reportedBytes >= PROGRESS_BYTES) {
                progress.update(entries, bytes + done);
                reportedBytes = bytes + done;
            }
        }
        return done;
    }

    private void symlink(int dirFd, byte[] rawName, String relative, Stat stat) throws IOException {
        byte[] rawTarget;
        try {
            rawTarget = fs.readlink(dirFd, rawName, relative);
        } catch (ErrnoException e) {
            if (vanished(e) || e.errno() == ErrnoException.EINVAL) { // EINVAL: no longer a link
                skip(relative, "it vanished or changed while the snapshot was taken");
                return;
            }
            throw e;
        }
        String target = decode(rawTarget);
        if (target == null) {
            skip(relative, "its link target is not valid UTF-8");
            return;
        }
        TarArchiveEntry entry = header(relative, TarConstants.LF_SYMLINK, stat);
        entry.setLinkName(target);
        put(entry);
        if (stat.nlink() > 1) {
            linkTargets.put(new FileId(stat.dev(), stat.ino()), relative);
        }
        count(0);
    }

    private TarArchiveEntry header(String name, byte type, Stat stat) {
        // preserveAbsolutePath: the name is stored as given; none of ours starts with a slash anyway.
        TarArchiveEntry entry = new TarArchiveEntry(name, type, true);
        entry.setMode(stat.permissions());
        entry.setUserId(stat.uid());
        entry.setGroupId(stat.gid());
        entry.setUserName("");
        entry.setGroupName("");
        entry.setLastModifiedTime(FileTime.from(Instant.ofEpochSecond(stat.mtimeSeconds(), stat.mtimeNanos())));
        return entry;
    }

    /** Writes an entry without content. */
    private void put(TarArchiveEntry entry) throws IOException {
        tar.putArchiveEntry(entry);
        tar.closeArchiveEntry();
    }

    private void count(long fileBytes) {
        entries++;
        bytes += fileBytes;
        if (entries - reportedEntries >= PROGRESS_ENTRIES || bytes - reportedBytes >= PROGRESS_BYTES) {
            progress.update(entries, bytes);
            reportedEntries = entries;
            reportedBytes = bytes;
        }
    }

    private void skip(String relative, String why) {
        skipped++;
        log.info("snapshot: skipping {}: {}", relative, why);
    }

    /** A directory on the current path was replaced while closed to save descriptors. */
    private static final class ChangedException extends Exception {
        ChangedException(String message) {
            super(message, null, false, false);
        }
    }

    /**
     * The descriptor of {@code dir}, reopening it (and closed directories above it) from the nearest open ancestor
     * when it was closed, and checking that each is still the directory that was entered.
     */
    private int fd(Frame dir) throws IOException, ChangedException {
        if (dir.fd >= 0) {
            return dir.fd;
        }
        int depth = path.indexOf(dir);
        int open = depth;
        while (path.get(open).fd < 0) {
            open--; // the root is never closed
        }
        for (int i = open + 1; i <= depth; i++) {
            Frame frame = path.get(i);
            int fd;
            try {
                fd = fs.openDir(path.get(i - 1).fd, frame.name, frame.prefix);
            } catch (ErrnoException e) {
                throw new ChangedException(shown(frame.prefix) + " vanished or changed while the snapshot was taken");
            }
            if (!fs.fstat(fd, frame.prefix).sameFile(frame.stat)) {
                fs.closeQuietly(fd);
                throw new ChangedException(shown(frame.prefix) + " was replaced while the snapshot was taken");
            }
            frame.fd = fd;
        }
        return dir.fd;
    }

    /** Keeps at most {@link #OPEN_DIRECTORIES} descriptors open, closing those highest above the current one. */
    private void limitOpenDirectories() {
        int excess = path.size() - OPEN_DIRECTORIES;
        for (int i = 1; i < path.size() - 1 && excess > 0; i++) {
            Frame frame = path.get(i);
            if (frame.fd >= 0) {
                closeFrame(frame);
                excess--;
            }
        }
    }

    private String decode(byte[] raw) {
        boolean ascii = true;
        for (byte b : raw) {
            if (b < 0) {
                ascii = false;
                break;
            }
        }
        if (ascii) {
            return new String(raw, StandardCharsets.ISO_8859_1);
        }
        try {
            CharBuffer chars = utf8.reset().decode(ByteBuffer.wrap(raw));
            return chars.toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** A name that is not UTF-8, printable: bytes above 0x7f as \xNN. */
    private static String escape(byte[] raw) {
        StringBuilder s = new StringBuilder();
        for (byte b : raw) {
            if (b >= 0x20 && b < 0x7f) {
                s.append((char) b);
            } else {
                s.append(String.format("\\x%02x", b & 0xff));
            }
        }
        return s.toString();
    }

    private static String shown(String prefix) {
        return prefix.isEmpty() ? "the volume's directory" : prefix.substring(0, prefix.length() - 1);
    }

    private static boolean vanished(ErrnoException e) {
        return e.errno() == ErrnoException.ENOENT || e.errno() == ErrnoException.ESTALE;
    }

    private static String kind(int type) {
        return switch (type) {
            case 0010000 -> "FIFO";
            case 0140000 -> "socket";
            case 0020000 -> "character device";
            case 0060000 -> "block device";
            default -> "file of type 0" + Integer.toOctalString(type);
        };
    }

    /** Passes everything through but does not close: the archive belongs in the caller's stream. */
    private static final class KeepOpen extends FilterOutputStream {
        KeepOpen(OutputStream out) {
            super(out);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            out.write(b, off, len);
        }

        @Override
        public void close() throws IOException {
            out.flush();
        }
    }
}
