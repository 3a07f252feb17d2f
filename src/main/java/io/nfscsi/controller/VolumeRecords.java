package io.nfscsi.controller;

import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.volume.MutableParameters;
import io.nfscsi.volume.OnDelete;
import io.nfscsi.volume.VolumeContext;
import io.nfscsi.volume.VolumeParameters;
import io.nfscsi.volume.VolumeRecordFormat;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;

/**
 * What CreateVolume was asked, kept on the share itself in a hidden directory beside the volumes
 * ({@code <share>/.nfs-csi/volumes/<name>.properties}), so that every controller replica and every restart agrees
 * on it. A record is a {@link RecordFile}: a reader sees the old record or the new one, never half of one.
 * Volumes made by csi-driver-nfs have no record; callers treat that as "nothing asked
 * beyond the volume ID".
 */
final class VolumeRecords {

    private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(VolumeRecords.class);

    static final String DIRECTORY = VolumeRecordFormat.DIRECTORY;
    private static final String SUFFIX = VolumeRecordFormat.SUFFIX;

    /**
     * One volume's record.
     *
     * @param name          the CreateVolume name (the PV name)
     * @param subDir        the directory below the share
     * @param capacityBytes the capacity last granted (CreateVolume or ControllerExpandVolume)
     * @param parameters    the effective parameters CreateVolume was asked for (mutable parameters applied), for
     *                      comparing a repeated CreateVolume; never changed by ControllerModifyVolume
     * @param mountOptions  the mount options CreateVolume was asked for (the StorageClass's, or the
     *                      {@code mountOptions} mutable parameter); never changed by ControllerModifyVolume
     * @param onDelete      the policy CreateVolume was asked for, as the volume ID and context say it
     * @param created       when the volume was created
     * @param contentSource what the volume was filled from, {@link ContentSource#key()}: empty for none (and for
     *                      records written before the field existed)
     * @param complete      false for a record that lacked fields or held unreadable ones, read with defaults
     *                      (capacity 0, no options, onDelete {@code null} for "what the ID says"); never written
     * @param current       the mutable settings the volume has now: its created ones until a ControllerModifyVolume
     *                      changes them. Every later mount of the share for this volume, every publish and
     *                      DeleteVolume use these.
     */
    record Record(String name, String subDir, long capacityBytes, Map<String, String> parameters,
                  List<String> mountOptions, OnDelete onDelete, Instant created, String contentSource,
                  boolean complete, MutableParameters.Settings current) {
        Record {
            parameters = Map.copyOf(new TreeMap<>(parameters));
            mountOptions = List.copyOf(mountOptions);
            contentSource = contentSource == null ? "" : contentSource;
            if (current == null) {
                current = new MutableParameters.Settings(mountOptions, onDelete, createdMode(parameters));
            }
        }

        Record(String name, String subDir, long capacityBytes, Map<String, String> parameters,
               List<String> mountOptions, OnDelete onDelete, Instant created, String contentSource) {
            this(name, subDir, capacityBytes, parameters, mountOptions, onDelete, created, contentSource, true, null);
        }

        Record withCapacity(long bytes) {
            return new Record(name, subDir, bytes, parameters, mountOptions, onDelete, created, contentSource,
                    complete, current);
        }

        Record withCurrent(MutableParameters.Settings settings) {
            return new Record(name, subDir, capacityBytes, parameters, mountOptions, onDelete, created, contentSource,
                    complete, settings);
        }

        /** Whether a ControllerModifyVolume changed a setting from what the volume was created with. */
        boolean modified() {
            return !current.equals(new MutableParameters.Settings(mountOptions, onDelete, createdMode(parameters)));
        }

        private static int createdMode(Map<String, String> parameters) {
            String mode = parameters.get(VolumeParameters.MOUNT_PERMISSIONS);
            return mode != null && mode.matches("[0-7]{1,5}") && Integer.parseInt(mode, 8) <= 07777
                    ? Integer.parseInt(mode, 8) : 0;
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
        Record r = new Record(p.getProperty("name", name), p.getProperty("subDir", ""), capacity, parameters,
                options.isEmpty() ? List.of() : List.of(options.split(",")), onDelete, created,
                p.getProperty("contentSource", ""), false, null);
        try {
            return r.withCurrent(current(p, r.current()));
        } catch (RuntimeException e) {
            return r; // the created settings, as for a record never modified
        }
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
        return shareRoot.resolve(VolumeRecordFormat.relativePath(name));
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
        if (r.modified()) {
            MutableParameters.Settings now = r.current();
            p.setProperty(VolumeRecordFormat.CURRENT_MOUNT_OPTIONS, String.join(",", now.mountOptions()));
            if (now.onDelete() != null) {
                p.setProperty(VolumeRecordFormat.CURRENT_ON_DELETE, now.onDelete().value());
            }
            p.setProperty(VolumeRecordFormat.CURRENT_MOUNT_PERMISSIONS,
                    VolumeRecordFormat.octal(now.mountPermissions()));
        }
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
        Record r = new Record(required(p, "name"), required(p, "subDir"), Long.parseLong(required(p, "capacityBytes")),
                parameters, options.isEmpty() ? List.of() : List.of(options.split(",")),
                OnDelete.parse("record.onDelete", required(p, "onDelete")), Instant.parse(required(p, "created")),
                p.getProperty("contentSource", ""));
        return r.withCurrent(current(p, r.current()));
    }

    /** The {@code current.*} settings a ControllerModifyVolume wrote, each defaulting to the created one. */
    private static MutableParameters.Settings current(Properties p, MutableParameters.Settings created) {
        String options = p.getProperty(VolumeRecordFormat.CURRENT_MOUNT_OPTIONS);
        String onDelete = p.getProperty(VolumeRecordFormat.CURRENT_ON_DELETE);
        String mode = p.getProperty(VolumeRecordFormat.CURRENT_MOUNT_PERMISSIONS);
        return new MutableParameters.Settings(
                options == null ? created.mountOptions() : options.isEmpty() ? List.of() : List.of(options.split(",")),
                onDelete == null ? created.onDelete() : OnDelete.parse("record.current.onDelete", onDelete),
                mode == null ? created.mountPermissions() : VolumeContext.parseMode("record.current.mountPermissions",
                        mode));
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null) {
            throw new IllegalArgumentException("missing " + key);
        }
        return v;
    }
}
