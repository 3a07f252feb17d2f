package io.nfscsi.node;

import io.nfscsi.csi.v1.Csi.VolumeCapability.AccessMode.Mode;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.mount.MountEntry;
import io.nfscsi.mount.MountTable;
import io.nfscsi.volume.NfsSource;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where this node has published each volume, kept as one small file per volume in a state directory so that it
 * survives a driver restart (kubelet retries after a restart, and the mounts stay). The mount table is the truth: a
 * recorded target that is no longer mounted from the recorded source is forgotten, at start for every volume and
 * whenever a volume's publications are read under its lock.
 *
 * <p>A record is {@code <hex sha-256 of the volume ID>.properties}, a {@link RecordFile}, so a crash leaves the old
 * record or the new one, never half of one. A record that cannot be read is
 * skipped and logged; the next write for that volume replaces it.
 */
final class PublishedTargets {

    private static final Logger log = LoggerFactory.getLogger(PublishedTargets.class);
    private static final String SUFFIX = ".properties";

    /** One publication of a volume: where, how, and from which export. */
    record Publication(Path target, Mode mode, boolean readOnly, NfsSource source) {

        /**
         * Whether a publication with this access mode allows no other publication of the volume on this node. The
         * spec's access modes: SINGLE_NODE_WRITER and SINGLE_NODE_READER_ONLY "can only be published once" on a
         * single node, SINGLE_NODE_SINGLE_WRITER "at a single workload"; SINGLE_NODE_MULTI_WRITER and the
         * MULTI_NODE modes can be published at many.
         */
        static boolean exclusive(Mode mode) {
            return switch (mode) {
                case SINGLE_NODE_WRITER, SINGLE_NODE_READER_ONLY, SINGLE_NODE_SINGLE_WRITER -> true;
                default -> false;
            };
        }

        /** Whether the mount table shows this publication: the target is an NFS mount of the recorded export. */
        boolean mountedIn(MountTable table) {
            Optional<MountEntry> e = table.at(target);
            return e.isPresent() && e.get().isNfs() && source.matchesPath(e.get().source());
        }
    }

    private final Path dir;
    private final Supplier<MountTable> table;
    /** Volume ID to its publications; lists are immutable. Guarded by this. */
    private final Map<String, List<Publication>> byVolume = new HashMap<>();

    private PublishedTargets(Path dir, Supplier<MountTable> table) {
        this.dir = dir;
        this.table = table;
    }

    /** Reads every record under {@code dir} (which need not exist yet) and forgets targets no longer mounted. */
    static PublishedTargets open(Path dir, Supplier<MountTable> table) {
        PublishedTargets t = new PublishedTargets(dir, table);
        t.load();
        return t;
    }

    private synchronized void load() {
        if (!Files.isDirectory(dir)) {
            return;
        }
        MountTable now = table.get();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir)) {
            for (Path f : files) {
                String name = f.getFileName().toString();
                if (RecordFile.isTemporary(name)) {
                    Files.deleteIfExists(f); // a write that a crash interrupted; the record it replaced is intact
                } else if (name.endsWith(SUFFIX)) {
                    read(f).ifPresent(r -> {
                        byVolume.put(r.volumeId, r.publications);
                        prune(r.volumeId, now);
                    });
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the node state directory " + dir, e);
        }
        log.info("node state {}: {} volume(s) published on this node", dir, byVolume.size());
    }

    /** The publications of {@code volumeId} that the mount table still shows; forgets the others. */
    synchronized List<Publication> of(String volumeId) {
        prune(volumeId, table.get());
        return byVolume.getOrDefault(volumeId, List.of());
    }

    /** The recorded publication of {@code volumeId} at {@code target}, whether or not it is still mounted. */
    synchronized Optional<Publication> find(String volumeId, Path target) {
        return byVolume.getOrDefault(volumeId, List.of()).stream().filter(p -> p.target().equals(target)).findFirst();
    }

    /** A volume's recorded publication at a target. */
    record Holder(String volumeId, Publication publication) {}

    /** Which volume the records place at {@code target}, if any, whether or not it is still mounted. */
    synchronized Optional<Holder> holderAt(Path target) {
        for (var e : byVolume.entrySet()) {
            for (Publication p : e.getValue()) {
                if (p.target().equals(target)) {
                    return Optional.of(new Holder(e.getKey(), p));
                }
            }
        }
        return Optional.empty();
    }

    /**
     * Records {@code p} for {@code volumeId}, replacing a publication at the same target.
     *
     * @throws CsiException.Internal when the record cannot be written
     */
    synchronized void put(String volumeId, Publication p) {
        List<Publication> next = new ArrayList<>(byVolume.getOrDefault(volumeId, List.of()));
        next.removeIf(q -> q.target().equals(p.target()));
        next.add(p);
        store(volumeId, List.copyOf(next));
    }

    /** Forgets the publication of {@code volumeId} at {@code target}, if recorded. */
    synchronized void remove(String volumeId, Path target) {
        List<Publication> current = byVolume.getOrDefault(volumeId, List.of());
        if (current.stream().anyMatch(q -> q.target().equals(target))) {
            store(volumeId, current.stream().filter(q -> !q.target().equals(target)).toList());
        }
    }

    private void prune(String volumeId, MountTable now) {
        List<Publication> current = byVolume.getOrDefault(volumeId, List.of());
        List<Publication> mounted = current.stream().filter(p -> p.mountedIn(now)).toList();
        if (mounted.size() != current.size()) {
            current.stream().filter(p -> !mounted.contains(p)).forEach(p -> log.info(
                    "forgetting volume {} at {}: it is no longer mounted there from {}", volumeId, p.target(),
                    p.source()));
            try {
                store(volumeId, mounted);
            } catch (CsiException e) {
                // the next reconcile forgets it again; the mount table stays the truth meanwhile
                byVolume.put(volumeId, mounted);
                log.warn("{}", e.getMessage());
            }
        }
    }

    /** Writes (or, for no publications, deletes) the record of {@code volumeId}, then updates the map. */
    private void store(String volumeId, List<Publication> publications) {
        Path file = dir.resolve(fileName(volumeId));
        try {
            if (publications.isEmpty()) {
                Files.deleteIfExists(file);
            } else {
                RecordFile.write(file, format(volumeId, publications), "nfs-csi: where this node published the volume");
            }
        } catch (IOException e) {
            throw new CsiException.Internal("cannot record the publications of volume " + volumeId + " in " + dir
                    + ": " + e, e);
        }
        if (publications.isEmpty()) {
            byVolume.remove(volumeId);
        } else {
            byVolume.put(volumeId, publications);
        }
    }

    static String fileName(String volumeId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(volumeId.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest) + SUFFIX;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JDK has SHA-256", e);
        }
    }

    private static Properties format(String volumeId, List<Publication> publications) {
        Properties p = new Properties();
        p.setProperty("volume_id", volumeId);
        for (int i = 0; i < publications.size(); i++) {
            Publication pub = publications.get(i);
            String k = "publication." + i + ".";
            p.setProperty(k + "target", pub.target().toString());
            p.setProperty(k + "access_mode", pub.mode().name());
            p.setProperty(k + "readonly", Boolean.toString(pub.readOnly()));
            p.setProperty(k + "server", pub.source().server());
            p.setProperty(k + "path", pub.source().path());
        }
        return p;
    }

    private record Read(String volumeId, List<Publication> publications) {}

    private Optional<Read> read(Path file) {
        Properties p;
        try {
            Optional<Properties> read = RecordFile.read(file);
            if (read.isEmpty()) {
                return Optional.empty();
            }
            p = read.get();
        } catch (IOException e) {
            log.warn("skipping unreadable node state record {}: {}", file, e.toString());
            return Optional.empty();
        }
        try {
            String volumeId = p.getProperty("volume_id");
            if (volumeId == null || !fileName(volumeId).equals(file.getFileName().toString())) {
                throw new IllegalArgumentException("volume_id missing or not the one the file is named for");
            }
            List<Publication> publications = new ArrayList<>();
            for (int i = 0; p.containsKey("publication." + i + ".target"); i++) {
                String k = "publication." + i + ".";
                Path target = Path.of(p.getProperty(k + "target"));
                if (!target.isAbsolute()) {
                    throw new IllegalArgumentException(k + "target is not absolute");
                }
                Mode mode = Mode.valueOf(p.getProperty(k + "access_mode"));
                if (mode == Mode.UNKNOWN || mode == Mode.UNRECOGNIZED) {
                    throw new IllegalArgumentException(k + "access_mode is " + mode);
                }
                publications.add(new Publication(target, mode,
                        Boolean.parseBoolean(p.getProperty(k + "readonly")),
                        new NfsSource(p.getProperty(k + "server"), p.getProperty(k + "path"))));
            }
            return Optional.of(new Read(volumeId, List.copyOf(publications)));
        } catch (RuntimeException e) {
            log.warn("skipping malformed node state record {}: {}", file, e.getMessage());
            return Optional.empty();
        }
    }
}
