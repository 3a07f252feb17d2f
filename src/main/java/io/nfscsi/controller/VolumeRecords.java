package io.nfscsi.controller;

import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.VolumeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * What CreateVolume was asked, kept on the share itself in a hidden directory beside the volumes
 * ({@code <share>/.nfs-csi/volumes/<name>.properties}), so that every controller replica and every restart agrees
 * on it. A record is a {@link RecordFile}: a reader sees the old record or the new one, never half of one.
 * Volumes made by csi-driver-nfs have no record; callers treat that as "nothing asked
 * beyond the volume ID".
 */
final class VolumeRecords {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(VolumeRecords.class);

    static final String DIRECTORY = VolumeId.METADATA_DIRECTORY + "/volumes";
    private static final String SUFFIX = ".properties";
    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    /**
     * One volume's record.
     *
     * @param name          the CreateVolume name (the PV name)
     * @param subDir        the directory below the share
     * @param capacityBytes the capacity last granted (CreateVolume or ControllerExpandVolume)
     * @param parameters    the effective parameters, for comparing a repeated CreateVolume
     * @param mountOptions  the StorageClass mount options, used for every later mount of the share for this volume
     * @param onDelete      what DeleteVolume does
     * @param created       when the volume was created
     * @param contentSource what the volume was filled from, {@link ContentSource#key()}: empty for none (and for
     *                      records written before the field existed)
     * @param complete      false for a record that lacked fields or held unreadable ones, read with defaults
     *                      (capacity 0, no options, onDelete {@code null} for "what the ID says"); never written
     */
    record Record(String name, String subDir, long capacityBytes, Map<String, String> parameters,
                  List<String> mountOptions, OnDelete onDelete, Instant created, String contentSource,
                  boolean complete) {
        Record {
            parameters = Map.copyOf(new TreeMap<>(parameters));
            mountOptions = List.copyOf(mountOptions);
            contentSource = contentSource == null ? "" : contentSource;
        }

        Record(String name, String subDir, long capacityBytes, Map<String, String> parameters,
               List<String> mountOptions, OnDelete onDelete, Instant created, String contentSource) {
            this(name, subDir, capacityBytes, parameters, mountOptions, onDelete, created, contentSource, true);
        }

        Record withCapacity(long bytes) {
            return new Record(name, subDir, bytes, parameters, mountOptions, onDelete, created, contentSource,
                    complete);
        }
    }

    private VolumeRecords() {}

    /**
     * The record of {@code name} on the share mounted at {@code shareRoot}, if there is one. A record with missing
     * or unreadable fields is logged and read with defaults ({@link Record#complete()} false), so that one damaged
     * file never fails a call that can go on without it.
     */
    static Optional<Record> read(Path shareRoot, String name) {
        Path file = file(shareRoot, name);
        Optional<Properties> p;
        try {
            p = RecordFile.read(file);
        } catch (RecordFile.DamagedException e) {
            log.warn("volume record {} is not readable ({}); treating it as a record without fields", file,
                    e.getCause().toString());
            return Optional.of(salvage(new Properties(), name));
        } catch (IOException e) {
            throw new CsiException.Internal("cannot read volume record " + file + ": " + e, e);
        }
        if (p.isEmpty()) {
            return Optional.empty();
        }
        try {
            return Optional.of(decode(p.get()));
        } catch (RuntimeException e) {
            log.warn("volume record {} is damaged ({}); reading what it holds", file, e.getMessage());
            return Optional.of(salvage(p.get(), name));
        }
    }

    /** A damaged record's readable fields, with defaults for the rest; {@link Record#complete()} is false. */
    private static Record salvage(Properties p, String name) {
        Map<String, String> parameters = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("parameter.")) {
                parameters.put(key.substring("parameter.".length()), p.getProperty(key));
            }
        }
        long capacity = 0;
        try {
            capacity = Long.parseLong(p.getProperty("capacityBytes", "0"));
        } catch (NumberFormatException e) {
            // unknown capacity is 0, as for a volume without a record
        }
        OnDelete onDelete = null;
        try {
            onDelete = p.getProperty("onDelete") == null ? null : OnDelete.parse("record.onDelete",
                    p.getProperty("onDelete"));
        } catch (RuntimeException e) {
            // the ID's policy applies
        }
        Instant created = Instant.EPOCH;
        try {
            created = p.getProperty("created") == null ? Instant.EPOCH : Instant.parse(p.getProperty("created"));
        } catch (RuntimeException e) {
            // unknown
        }
        String options = p.getProperty("mountOptions", "");
        return new Record(p.getProperty("name", name), p.getProperty("subDir", ""), capacity, parameters,
                options.isEmpty() ? List.of() : List.of(options.split(",")), onDelete, created,
                p.getProperty("contentSource", ""), false);
    }

    /** Writes (or replaces) a record, atomically. */
    static void write(Path shareRoot, Record record) {
        Path file = file(shareRoot, record.name());
        try {
            RecordFile.write(file, encode(record), "nfs-csi volume record; written by the controller, do not edit");
        } catch (IOException e) {
            throw new CsiException.Internal("cannot write volume record " + file + ": " + e, e);
        }
    }

    static void delete(Path shareRoot, String name) {
        try {
            RecordFile.delete(file(shareRoot, name));
        } catch (IOException e) {
            throw new CsiException.Internal("cannot delete the volume record of " + name + ": " + e, e);
        }
    }

    /** Every record on the share, in no particular order. */
    static List<Record> list(Path shareRoot) {
        Path dir = shareRoot.resolve(DIRECTORY);
        List<Record> out = new ArrayList<>();
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return out;
        }
        try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*" + SUFFIX)) {
            for (Path f : files) {
                try {
                    RecordFile.read(f).map(VolumeRecords::decode).ifPresent(out::add);
                } catch (IOException | RuntimeException e) {
                    // one unreadable record must not hide the others
                    log.warn("skipping volume record {}: {}", f,
                            e.toString());
                }
            }
        } catch (IOException e) {
            throw new CsiException.Internal("cannot list volume records in " + dir + ": " + e, e);
        }
        return out;
    }

    /** A file name for any CSI name: the name itself when it is safe, else a digest of it. */
    static Path file(Path shareRoot, String name) {
        String base = SAFE_NAME.matcher(name).matches() ? name : "sha256-" + sha256(name);
        return shareRoot.resolve(DIRECTORY).resolve(base + SUFFIX);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static Properties encode(Record r) {
        Properties p = new Properties();
        p.setProperty("version", "1");
        p.setProperty("name", r.name());
        p.setProperty("subDir", r.subDir());
        p.setProperty("capacityBytes", Long.toString(r.capacityBytes()));
        p.setProperty("mountOptions", String.join(",", r.mountOptions()));
        p.setProperty("onDelete", r.onDelete().value());
        p.setProperty("created", r.created().toString());
        if (!r.contentSource().isEmpty()) {
            p.setProperty("contentSource", r.contentSource());
        }
        r.parameters().forEach((k, v) -> p.setProperty("parameter." + k, v));
        return p;
    }

    /** A record's fields; throws for a record that lacks one or holds one that does not parse. */
    static Record decode(Properties p) {
        Map<String, String> parameters = new TreeMap<>();
        for (String key : p.stringPropertyNames()) {
            if (key.startsWith("parameter.")) {
                parameters.put(key.substring("parameter.".length()), p.getProperty(key));
            }
        }
        String options = p.getProperty("mountOptions", "");
        return new Record(required(p, "name"), required(p, "subDir"), Long.parseLong(required(p, "capacityBytes")),
                parameters, options.isEmpty() ? List.of() : List.of(options.split(",")),
                OnDelete.parse("record.onDelete", required(p, "onDelete")), Instant.parse(required(p, "created")),
                p.getProperty("contentSource", ""));
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        return v;
    }
}
