package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.posix.DirCalls;
import io.nfscsi.posix.ErrnoException;
import io.nfscsi.volume.NfsSource;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.BiConsumer;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A directory of record files on the shares ({@code .nfs-csi/volumes}, {@code .nfs-csi/snapshots}) as the lists
 * read it: the record names with one directory read, sorted, and the records of only the names that a page
 * returns. A record once read is kept, decoded, and used again while its file is the same file: every writer
 * replaces a record by renaming a complete new file over it, or links a new one in ({@link RecordFile}), so a file
 * that still has the inode number, size and modification time seen when it was read still holds what was read. A
 * repeated listing therefore costs a directory read and, per entry it returns, one {@code statx} of the record and
 * one of what it names, both answered from the NFS client's caches ({@link DirCalls#statCached}): the names are
 * looked up as any path is, checked against the server when their directory changed, and only the attributes that
 * do not change while a name points to the same file (inode number, type; size and time of a file never written
 * after it is renamed into place) are taken as cached, so that no GETATTR goes to the server for them. The second
 * {@code statx} is replaced by one read of the share root for volumes directly below it, and, in a whole listing,
 * by one read of each other directory that holds volumes ({@link Reading#isDirectory}).
 *
 * <p>Most listings find nothing changed, and then cost no per-entry system call at all: each reading first asks the
 * server for the records directory's {@link DirCalls.Version} (inode, size, links, modification and change times;
 * {@code AT_STATX_FORCE_SYNC}), and while it is the version of the last directory read, and that version had
 * {@linkplain #SETTLE_NANOS settled} when it was read, the names read then, and every record read or found the same
 * since, still hold: a record is replaced only by a rename into the directory, which changes its version. The same
 * goes for the share root, whose entries' types (from one getdents) answer whether each volume's directory is there:
 * removing, replacing or making one changes the root's version. A version that changed, or had not settled, makes
 * the reading work as described above, and records found the same then are not looked at again until the next
 * change.
 *
 * <p>What is kept: per share, the names of the last directory read and one decoded record (or the reason it did not
 * decode, so that a damaged record is logged once, not on every page) per name read since; names that leave the
 * directory leave the cache at the next read. Nothing is kept across restarts.
 *
 * <p>A record rewritten by another controller replica is seen as soon as this host's NFS client sees the new file
 * under the name (the client revalidates a name when the directory changed, at the latest after its attribute cache
 * time, {@code acdirmin}); a record edited in place, which no writer does, could be missed until it is replaced.
 *
 * @param <T> what a record decodes to
 */
final class RecordDirectory<T> {

    private static final Logger log = LoggerFactory.getLogger(RecordDirectory.class);
    static final String SUFFIX = ".properties";
    /** Larger than any record the driver writes (a few hundred bytes); a larger file is damaged or not ours. */
    static final int MAX_RECORD_BYTES = 1 << 20;

    /** Turns one record file into what the list shows; throws for a record it cannot use (skipped and logged). */
    @FunctionalInterface
    interface Decoder<T> {
        T decode(NfsSource share, String name, Properties record);
    }

    /**
     * A record as read, with the file it was read from; {@code value} is null when it did not decode.
     * {@code generation}: the directory's {@link Names#generation()} when the file was last read or found the same.
     */
    private record Cached<T>(long ino, long size, long mtimeSeconds, int mtimeNanos, T value, long generation) {
        static <T> Cached<T> of(DirCalls.Stat s, T value, long generation) {
            return new Cached<>(s.ino(), s.size(), s.mtimeSeconds(), s.mtimeNanos(), value, generation);
        }

        Cached<T> in(long generation) {
            return generation == this.generation ? this
                    : new Cached<>(ino, size, mtimeSeconds, mtimeNanos, value, generation);
        }

        boolean sameFile(DirCalls.Stat s) {
            return ino == s.ino() && size == s.size() && mtimeSeconds == s.mtimeSeconds()
                    && mtimeNanos == s.mtimeNanos();
        }
    }

    /**
     * A directory's record names, as it returned them and sorted, with the directory's {@link DirCalls.Version}
     * taken before they were read (null when it could not be), whether that version had {@link #settled} then, and
     * the generation of this read (each read that could not reuse the last one is a new generation). One value, so
     * that readers see a matching set.
     */
    private record Names(List<String> unsorted, List<String> sorted, DirCalls.Version version, boolean settled,
                         long generation) {
        /** Whether a directory now at {@code now} holds what this read found, and every record found the same in it. */
        boolean stillValid(DirCalls.Version now) {
            return settled && now != null && now.equals(version);
        }
    }

    /**
     * The types of the entries of a share's root directory, read when it was at {@code version}; an entry whose type
     * getdents did not give is filled in when first looked at.
     */
    private record RootTypes(DirCalls.Version version, boolean settled, Map<String, Integer> types) {
        boolean stillValid(DirCalls.Version now) {
            return settled && now != null && now.equals(version);
        }
    }

    /** What this controller knows of the directory on one share. */
    private static final class OnShare<T> {
        /** The names of the last directory read, sorted and as the directory returned them. */
        volatile Names names = new Names(List.of(), List.of(), null, false, -1);
        final Map<String, Cached<T>> records = new ConcurrentHashMap<>();
        /** The share root's entries' types as last read; null before the first read. */
        volatile RootTypes root;
    }

    /**
     * How long after its last change a directory's version is taken to identify its content. A directory's times
     * have the server's timestamp granularity (a clock tick on many file systems): a change in the same tick as the
     * one before, made just after this controller read the directory, leaves the version as it was. A version whose
     * times are older than this (on this host's clock) cannot be repeated by a later change, as long as the server's
     * clock is not behind this host's by more than this less a tick.
     */
    static final long SETTLE_NANOS = 2_000_000_000L;
    private static final java.util.concurrent.atomic.AtomicLong GENERATIONS =
            new java.util.concurrent.atomic.AtomicLong();

    /** A root entry's type once looked at, when it is not a directory (any {@code d_type} but DT_DIR, DT_UNKNOWN). */
    private static final int DT_OTHER = 8;

    private static boolean settled(DirCalls.Version v) {
        return v != null && System.currentTimeMillis() * 1_000_000L - v.latestNanos() > SETTLE_NANOS;
    }

    private final String directory;
    private final String what;
    private final Decoder<T> decoder;
    private final Map<NfsSource, OnShare<T>> shares = new ConcurrentHashMap<>();
    /** Record files opened and read since start: what a listing cost beyond its directory reads and stats. */
    private final java.util.concurrent.atomic.AtomicLong filesRead = new java.util.concurrent.atomic.AtomicLong();

    /**
     * @param directory the records' directory below a share's root, e.g. {@code .nfs-csi/volumes}
     * @param what      what a record describes, for the log ("volume", "snapshot")
     */
    RecordDirectory(String directory, String what, Decoder<T> decoder) {
        this.directory = directory;
        this.what = what;
        this.decoder = decoder;
    }

    /**
     * Where an entry is in the lists' order: by share ({@link NfsSource#format()}), then by record name. A paging
     * token carries the position of the last entry of its page, so that the next page starts after it even when that
     * entry was deleted meanwhile, and an entry that exists throughout a listing is returned exactly once.
     */
    record Position(String share, String name) implements Comparable<Position> {
        @Override
        public int compareTo(Position o) {
            int c = share.compareTo(o.share);
            return c != 0 ? c : name.compareTo(o.name);
        }

        /** The text a token carries: the share, a newline (which no share holds), the name. */
        String format() {
            return share + "\n" + name;
        }

        /** Empty for text that {@link #format()} did not write. */
        static Optional<Position> parse(String text) {
            int nl = text.indexOf('\n');
            if (nl <= 0 || nl == text.length() - 1 || text.indexOf('\n', nl + 1) >= 0) {
                return Optional.empty();
            }
            return Optional.of(new Position(text.substring(0, nl), text.substring(nl + 1)));
        }
    }

    /** One page of a list: its entries, and the position the next page starts after, when more may follow. */
    record Page<R>(List<R> entries, Optional<Position> next) {}

    /** What a record on a share being read shows in a list, live parts included; empty leaves it out (a filter). */
    @FunctionalInterface
    interface Live<T, R> {
        Optional<R> entry(RecordDirectory<T>.Reading on, T record);
    }

    /** What a record last seen on a share that cannot be read now shows; empty leaves it out. */
    @FunctionalInterface
    interface Remembered<T, R> {
        Optional<R> entry(NfsSource share, T record, RuntimeException why);
    }

    /**
     * One page of at most {@code maxEntries} entries (0: no limit) after {@code after}, from the known shares in
     * {@link Position} order. Only the records of the names the page returns (and of those a filter leaves out) are
     * looked at; a share is visited only when the page reaches it, to fill it or, when it is full, to learn whether
     * more follow. A share that cannot be mounted or read is reported to {@code failed} and answers from what was
     * last seen on it ({@link #lastSeen}), through {@code remembered}.
     */
    <R> Page<R> page(SharePool pool, Supplier<Deadline> perShare, Optional<Position> after, int maxEntries,
                     String doing, Live<T, R> live, Remembered<T, R> remembered,
                     BiConsumer<NfsSource, RuntimeException> failed) {
        List<R> entries = new ArrayList<>();
        int limit = maxEntries == 0 ? Integer.MAX_VALUE : maxEntries;
        Position last = null;
        for (NfsSource share : pool.knownSharesInOrder()) {
            String key = share.format();
            if (after.isPresent() && key.compareTo(after.get().share()) < 0) {
                continue;
            }
            Optional<String> from = after.filter(a -> a.share().equals(key)).map(Position::name);
            int want = limit - entries.size();
            List<Filled<R>> result = new ArrayList<>(1);
            pool.onKnownShare(share, perShare.get(), (s, lease, forShare) -> result.add(lease.io(doing, forShare,
                    root -> {
                        try (Reading reading = open(share, root, maxEntries == 0)) {
                            return fill(reading.names(), from, want, name -> reading.record(name)
                                    .flatMap(r -> live.entry(reading, r)));
                        }
                    })), (s, e) -> {
                        failed.accept(s, e);
                        Map<String, T> seen = new java.util.LinkedHashMap<>();
                        lastSeen(share, from).forEach(en -> seen.put(en.getKey(), en.getValue()));
                        result.add(fill(List.copyOf(seen.keySet()), Optional.empty(), want,
                                name -> remembered.entry(share, seen.get(name), e)));
                    });
            if (result.isEmpty()) {
                continue; // no longer a known share
            }
            Filled<R> filled = result.getFirst();
            entries.addAll(filled.entries());
            if (filled.lastName() != null) {
                last = new Position(key, filled.lastName());
            }
            if (filled.more()) {
                return new Page<>(entries, Optional.of(last));
            }
        }
        return new Page<>(entries, Optional.empty());
    }

    /** What one share gave a page: entries, the last name looked at, and whether names remain after it. */
    private record Filled<R>(List<R> entries, String lastName, boolean more) {}

    /** Takes names after {@code from} from the sorted {@code names} until {@code want} entries are found. */
    private static <R> Filled<R> fill(List<String> names, Optional<String> from, int want,
                                      java.util.function.Function<String, Optional<R>> entry) {
        int start = 0;
        if (from.isPresent()) {
            int at = java.util.Collections.binarySearch(names, from.get());
            start = at >= 0 ? at + 1 : -at - 1;
        }
        List<R> out = new ArrayList<>();
        String lastName = null;
        for (int i = start; i < names.size(); i++) {
            if (out.size() == want) {
                return new Filled<>(out, lastName, true);
            }
            lastName = names.get(i);
            entry.apply(lastName).ifPresent(out::add);
        }
        return new Filled<>(out, lastName, false);
    }

    /** Record files opened and read since start (a record used from the cache is not counted). */
    long filesRead() {
        return filesRead.get();
    }

    /**
     * Starts reading the directory on {@code share}, mounted at {@code root}; to be called, used and closed within
     * one {@code Lease.io} call (the descriptors and the native memory belong to that thread). {@code whole}: the
     * reading is for a whole listing, where reading the directories that hold the volumes costs less than a
     * {@code statx} per volume ({@link Reading#isDirectory}).
     */
    Reading open(NfsSource share, Path root, boolean whole) {
        return new Reading(share, root, whole);
    }

    /**
     * The records last read on {@code share} whose names the last directory read found, in name order after
     * {@code after} (exclusive; empty for all): what the lists report, abnormal, while the share is unreachable.
     */
    List<Map.Entry<String, T>> lastSeen(NfsSource share, Optional<String> after) {
        OnShare<T> on = shares.get(share);
        List<Map.Entry<String, T>> out = new ArrayList<>();
        if (on == null) {
            return out;
        }
        for (String name : on.names.sorted()) {
            if (after.isPresent() && name.compareTo(after.get()) <= 0) {
                continue;
            }
            Cached<T> c = on.records.get(name);
            if (c != null && c.value() != null) {
                out.add(Map.entry(name, c.value()));
            }
        }
        return out;
    }

    /** One read of the directory on one share. */
    final class Reading implements AutoCloseable {
        private final NfsSource share;
        private final Path root;
        private final DirCalls calls = new DirCalls();
        private final int rootFd;
        private final int dirFd;
        private final OnShare<T> on;
        private final boolean whole;
        /** For a whole listing: the entries' types in each directory that holds volumes, read once. */
        private final Map<String, Map<String, Integer>> typesIn = new java.util.HashMap<>();
        /** The records directory's version when this reading opened it; null when it could not be had. */
        private final DirCalls.Version version;
        /** The generation of {@link #names()}' answer: records found the same in it need no new look. */
        private long generation = -1;
        /** The types of the root's entries, for this reading (from {@link OnShare#root} or read once). */
        private Map<String, Integer> rootTypes;
        private boolean rootUnreadable;

        private Reading(NfsSource share, Path root, boolean whole) {
            this.whole = whole;
            this.share = share;
            this.root = root;
            this.on = shares.computeIfAbsent(share, s -> new OnShare<>());
            try {
                rootFd = calls.openTrustedDir(root);
            } catch (ErrnoException e) {
                calls.close();
                throw new CsiException.Internal("cannot open the share " + share + " at " + root + ": " + e, e);
            }
            int fd = rootFd;
            try {
                for (String segment : directory.split("/")) {
                    int next = calls.openDir(fd, bytes(segment), directory);
                    if (fd != rootFd) {
                        calls.closeQuietly(fd);
                    }
                    fd = next;
                }
            } catch (ErrnoException e) {
                if (fd != rootFd) {
                    calls.closeQuietly(fd);
                }
                fd = -1;
                if (e.errno() != ErrnoException.ENOENT) {
                    log.warn("cannot open {} on {}: {}; listing no {} records there", directory, share, e.getMessage(),
                            what);
                }
            }
            dirFd = fd;
            DirCalls.Version v = null;
            if (dirFd >= 0) {
                try {
                    v = calls.versionFresh(dirFd, directory);
                } catch (ErrnoException e) {
                    // then the directory is read, and each record looked at, as if it had changed
                }
            }
            version = v;
        }

        /** The share's root directory, for looking at what records name (with {@code java.nio.file}). */
        Path root() {
            return root;
        }

        /**
         * The names of the records in the directory (file names without {@value #SUFFIX}; temporary files left out),
         * sorted; also what {@link #lastSeen} answers from until the next read.
         */
        List<String> names() {
            Names last = on.names;
            if (dirFd >= 0 && last.stillValid(version)) {
                // the directory has not changed since that read: its names, and the records found then, still hold
                generation = last.generation();
                return last.sorted();
            }
            generation = GENERATIONS.incrementAndGet();
            List<String> names = new ArrayList<>();
            if (dirFd >= 0) {
                List<byte[]> entries;
                try {
                    entries = calls.list(dirFd, directory);
                } catch (ErrnoException e) {
                    throw new CsiException.Internal("cannot list " + what + " records in " + directory + " on "
                            + share + ": " + e.getMessage(), e);
                }
                for (byte[] entry : entries) {
                    String file = new String(entry, StandardCharsets.UTF_8);
                    if (file.endsWith(SUFFIX) && !file.startsWith(".")) {
                        names.add(file.substring(0, file.length() - SUFFIX.length()));
                    }
                }
            }
            boolean settled = settled(version);
            if (names.equals(last.unsorted())) {
                // the directory as it was: its sorted names, and the cache's keys, are still right
                on.names = new Names(last.unsorted(), last.sorted(), version, settled, generation);
                return last.sorted();
            }
            List<String> sorted = new ArrayList<>(names);
            sorted.sort(null);
            List<String> read = List.copyOf(sorted);
            on.names = new Names(names, read, version, settled, generation);
            if (!on.records.isEmpty()) {
                on.records.keySet().retainAll(new HashSet<>(read));
            }
            return read;
        }

        /**
         * The record {@code name}, from the cache while its file is the one read before, else read now. Empty when
         * the file is gone (deleted since the directory read) or does not decode (logged when first seen).
         */
        Optional<T> record(String name) {
            if (dirFd < 0) {
                return Optional.empty();
            }
            byte[] file = bytes(name + SUFFIX);
            Cached<T> cached = on.records.get(name);
            if (cached != null && cached.generation() == generation) {
                // read or found the same since the directory last changed (names())
                return Optional.ofNullable(cached.value());
            }
            if (cached != null) {
                DirCalls.Stat stat;
                try {
                    stat = calls.statCached(dirFd, file, name);
                } catch (ErrnoException e) {
                    if (e.errno() == ErrnoException.ENOENT) {
                        on.records.remove(name);
                        return Optional.empty();
                    }
                    throw internal(name, e);
                }
                if (cached.sameFile(stat)) {
                    on.records.put(name, cached.in(generation));
                    return Optional.ofNullable(cached.value());
                }
            }
            Cached<T> read = read(name, file);
            if (read == null) {
                on.records.remove(name);
                return Optional.empty();
            }
            on.records.put(name, read);
            return Optional.ofNullable(read.value());
        }

        /** Reads and decodes one record; null when it is gone. Its key is the descriptor's, not the earlier stat's. */
        private Cached<T> read(String name, byte[] file) {
            int fd;
            filesRead.incrementAndGet();
            try {
                fd = calls.openRead(dirFd, file, name);
            } catch (ErrnoException e) {
                if (e.errno() == ErrnoException.ENOENT) {
                    return null;
                }
                throw internal(name, e);
            }
            DirCalls.Stat stat;
            byte[] bytes;
            try {
                stat = calls.fstat(fd, name);
                if (!stat.isRegular()) {
                    log.warn("ListVolumes: {} record {} on {} is not a regular file; skipping it", what, name, share);
                    return Cached.of(stat, null, generation);
                }
                bytes = readAll(fd, stat.size(), name);
            } catch (ErrnoException e) {
                throw internal(name, e);
            } finally {
                calls.closeQuietly(fd);
            }
            T value = null;
            try {
                if (bytes == null) {
                    throw new IOException("larger than " + MAX_RECORD_BYTES + " bytes: not a record");
                }
                Properties p = RecordFile.parse(bytes, root.resolve(directory).resolve(name + SUFFIX));
                value = decoder.decode(share, name, p);
            } catch (IOException | RuntimeException e) {
                // one unreadable record must not hide the others; logged once per version of the file
                log.warn("skipping the {} record {} on {}: {}", what, name + SUFFIX, share, e.getMessage());
            }
            return Cached.of(stat, value, generation);
        }

        /**
         * The whole file, {@code size} bytes as fstat said (a record file is never written after it is renamed into
         * place, so no read past them is needed to find its end); null when it is larger than any record.
         */
        private byte[] readAll(int fd, long size, String name) throws ErrnoException {
            if (size > MAX_RECORD_BYTES) {
                return null;
            }
            byte[] buf = new byte[(int) size];
            int n = 0;
            while (n < buf.length) {
                int r = calls.read(fd, buf, n, buf.length - n, name);
                if (r <= 0) {
                    return Arrays.copyOf(buf, n);
                }
                n += r;
            }
            return buf;
        }

        /**
         * Whether {@code relative} names a directory below the share's root, without following a symbolic link on
         * the way: false when it, or a directory on the way, is missing, a file or a link. For a name directly below
         * the root the answer comes from the root's entries ({@link #rootTypes}), and in a whole listing for others
         * from one read of each directory that holds volumes (a getdents gives each entry's type), not from a
         * {@code statx} per volume: in the test bed each system call costs about 0.2 ms.
         */
        boolean isDirectory(String relative) {
            Map<String, Integer> inRoot = relative.indexOf('/') < 0 ? rootTypes() : null;
            if (inRoot != null) {
                Integer type = inRoot.get(relative);
                if (type == null) {
                    return false;
                }
                if (type != DirCalls.DT_UNKNOWN) {
                    return type == DirCalls.DT_DIR;
                }
                // the file system did not say (NFS's plain READDIR): looked at once, and kept with the root's types
                boolean directory = isDirectoryLookedAt(relative);
                inRoot.replace(relative, DirCalls.DT_UNKNOWN, directory ? DirCalls.DT_DIR : DT_OTHER);
                return directory;
            } else if (whole) {
                int slash = relative.lastIndexOf('/');
                Integer type = typesIn.computeIfAbsent(slash < 0 ? "" : relative.substring(0, slash), this::types)
                        .get(relative.substring(slash + 1));
                if (type == null) {
                    return false;
                }
                if (type != DirCalls.DT_UNKNOWN) {
                    return type == DirCalls.DT_DIR;
                }
            }
            return isDirectoryLookedAt(relative);
        }

        /** {@link #isDirectory} with a {@code statx} of {@code relative} (answered from the NFS client's cache). */
        private boolean isDirectoryLookedAt(String relative) {
            String[] segments = relative.split("/");
            int fd = rootFd;
            try {
                for (int i = 0; i < segments.length - 1; i++) {
                    int next = calls.openDir(fd, bytes(segments[i]), relative);
                    if (fd != rootFd) {
                        calls.closeQuietly(fd);
                    }
                    fd = next;
                }
                return calls.statCached(fd, bytes(segments[segments.length - 1]), relative).isDirectory();
            } catch (ErrnoException e) {
                return false;
            } finally {
                if (fd != rootFd) {
                    calls.closeQuietly(fd);
                }
            }
        }

        /**
         * The types of the root's entries (null when the root cannot be read): those read by an earlier reading while the root is still at the version
         * it had then ({@link DirCalls#versionFresh}: asked of the server, so that a volume directory removed or
         * replaced since is seen at once), else read now, version first.
         */
        private Map<String, Integer> rootTypes() {
            if (rootTypes == null && !rootUnreadable) {
                DirCalls.Version now = null;
                try {
                    now = calls.versionFresh(rootFd, root);
                } catch (ErrnoException e) {
                    // read the root now, and keep nothing of it
                }
                RootTypes last = on.root;
                if (last != null && last.stillValid(now)) {
                    rootTypes = last.types();
                } else {
                    Map<String, Integer> read = typesOrNull("");
                    if (read == null) {
                        rootUnreadable = true; // then each volume's directory is looked at by itself
                    } else if (now != null) {
                        on.root = new RootTypes(now, settled(now), new ConcurrentHashMap<>(read));
                        rootTypes = on.root.types();
                    } else {
                        rootTypes = read;
                    }
                }
            }
            return rootTypes;
        }

        /**
         * The type of each entry of the directory {@code parent} below the root (the root itself for ""), reached
         * without following a symbolic link; empty when it cannot be (then nothing in it is a volume's directory).
         */
        private Map<String, Integer> types(String parent) {
            Map<String, Integer> types = typesOrNull(parent);
            return types == null ? new java.util.HashMap<>() : types;
        }

        /** As {@link #types}, but null when the directory cannot be reached or read. */
        private Map<String, Integer> typesOrNull(String parent) {
            Map<String, Integer> types = new java.util.HashMap<>();
            int fd = rootFd;
            try {
                if (!parent.isEmpty()) {
                    for (String segment : parent.split("/")) {
                        int next = calls.openDir(fd, bytes(segment), parent);
                        if (fd != rootFd) {
                            calls.closeQuietly(fd);
                        }
                        fd = next;
                    }
                }
                for (DirCalls.Dirent d : calls.entries(fd, parent)) {
                    types.put(new String(d.name(), StandardCharsets.UTF_8), d.type());
                }
            } catch (ErrnoException e) {
                return null;
            } finally {
                if (fd != rootFd) {
                    calls.closeQuietly(fd);
                }
            }
            return types;
        }

        private CsiException internal(String name, ErrnoException e) {
            return new CsiException.Internal("cannot read the " + what + " record " + name + SUFFIX + " on " + share
                    + ": " + e.getMessage(), e);
        }

        @Override
        public void close() {
            if (dirFd >= 0 && dirFd != rootFd) {
                calls.closeQuietly(dirFd);
            }
            calls.closeQuietly(rootFd);
            calls.close();
        }
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
