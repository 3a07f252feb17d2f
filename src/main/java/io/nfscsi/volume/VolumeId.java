package io.nfscsi.volume;

import io.nfscsi.error.CsiException;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code volume_id} of a volume that CreateVolume made: the directory {@code share/subDir} on {@code server},
 * the name it was created under and what DeleteVolume does with it.
 *
 * <h2>Our format</h2>
 * Written by {@link #format()} for every new volume, six '#'-separated segments:
 * <pre>
 * nfs-csi:1#nfs.example.com#/exports#team-a/data-pvc#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64#archive
 * version  #server         #share   #subDir          #name                                    #onDelete
 * </pre>
 * Fields are never escaped: '#' is refused in every field. The share is absolute and normalized, the subDir
 * relative and canonical, and onDelete in lower case, so that parsing and formatting give back the same string.
 *
 * <h2>csi-driver-nfs formats</h2>
 * Read so that volumes provisioned by csi-driver-nfs can be taken over; {@link #legacy()} is then true and
 * {@link #format()} returns the parsed string unchanged ({@link #original()}).
 * <ul>
 *   <li>{@code server#baseDir#subDir[#uuid[#onDelete]]}, 3 to 5 segments, e.g.
 *       {@code nfs-server.default.svc.cluster.local#share#subdir#pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64} or
 *       {@code 10.0.0.1#exports/k8s#ns/pvc-a#pvc-a#retain}. The share is {@code "/" + baseDir} (an empty
 *       baseDir is the root), slashes around subDir are trimmed, uuid is the PV name when the StorageClass set
 *       subDir (else empty), and an absent or empty onDelete means "the driver's default" ({@code null}).</li>
 *   <li>the oldest, {@code server/baseDir/subDir} without '#', e.g.
 *       {@code nfs-server.default.svc.cluster.local/share/pvc-4bcbf944-b6f7-4bd0-b50f-3c3dd00efc64}, split by
 *       {@code ^([^/]+)/(.*)/([^/]+)$}.</li>
 * </ul>
 *
 * <h2>How versions are told apart</h2>
 * An ID that starts with {@code nfs-csi:} is ours, and the text up to the first '#' is {@code nfs-csi:<N>}; only
 * version 1 is known, a later one is refused. That prefix can never be a csi-driver-nfs server: a host name has no
 * ':' and an IPv6 literal no 'n' or 's'. Any other ID is a csi-driver-nfs one: with '#' the segmented form, without
 * it the slash form. A later version of ours must keep the prefix and may change everything after it.
 *
 * <h2>Validation</h2>
 * Every field is checked in the constructor, for IDs parsed and created alike, so that {@link #source()} never
 * leaves the share: no {@code ..}, no {@code .}, no empty segment, no NUL or control character, and a subDir that
 * names a directory below the share, never the share itself (deleting that volume would wipe the share). Failures
 * are {@link InvalidException}s.
 *
 * @param server   host name or IP address (IPv6 with or without brackets); no '/', ',', '#', blank or control
 *                 character
 * @param share    absolute, normalized export path, e.g. {@code /exports}
 * @param subDir   the volume's directory below the share, e.g. {@code ns/pvc-1}; never empty
 * @param name     the CreateVolume name (the PV name); empty only in csi-driver-nfs IDs without a uuid
 * @param onDelete what DeleteVolume does; {@code null} only in csi-driver-nfs IDs that do not say (use the driver's
 *                 default)
 * @param legacy   whether the ID is in a csi-driver-nfs format
 * @param original the csi-driver-nfs ID as parsed, which {@link #format()} returns; {@code null} for ours
 */
public record VolumeId(String server, String share, String subDir, String name, OnDelete onDelete, boolean legacy,
                       String original) {

    /** What every ID of ours starts with, followed by the version number. */
    public static final String PREFIX = "nfs-csi:";

    /** The version that {@link #format()} writes, the only one {@link #parse} reads. */
    public static final int VERSION = 1;

    private static final char SEPARATOR = '#';
    /**
     * The longest name of a volume or snapshot, in UTF-8 bytes: it names a record file ({@code <name>.properties})
     * and, for a snapshot's source, a partial archive ({@code .<name>.partial-<uuid>}), which must stay within
     * the 255 bytes a file name may have on Linux. Kubernetes names are at most 253 characters, but the sidecars'
     * are about 40 ({@code pvc-<uuid>}, {@code snapshot-<uuid>}).
     */
    public static final int MAX_NAME_BYTES = 200;
    /** The longest path segment (NAME_MAX) and the longest share or subDir, in UTF-8 bytes. */
    static final int MAX_SEGMENT_BYTES = 255;
    static final int MAX_PATH_BYTES = 2048;
    private static final int SEGMENTS = 6;
    private static final Pattern SLASH_FORM = Pattern.compile("^([^/]+)/(.*)/([^/]+)$", Pattern.DOTALL);

    /**
     * A volume ID, or one of its fields, that this driver cannot use. Unchecked because a record's constructor
     * cannot declare a checked exception; callers that take an ID from a request catch it and decide what it means
     * there: DeleteVolume answers success (there is nothing of ours to delete), the other calls INVALID_ARGUMENT or
     * NOT_FOUND as the CSI spec asks. The message starts with the field's name, e.g.
     * {@code subDir "a/../b" must not contain a ".." segment}.
     */
    public static final class InvalidException extends IllegalArgumentException {

        private final String field;
        private final boolean reserved;

        InvalidException(String field, String problem) {
            this(field, problem, false);
        }

        private InvalidException(String field, String problem, boolean reserved) {
            super(field + " " + problem);
            this.field = field;
            this.reserved = reserved;
        }

        /** The offending field: server, share, subDir, name, onDelete, version, original or volume_id. */
        public String field() {
            return field;
        }

        /**
         * Whether the ID is well formed but names a hidden directory ({@link #checkNotHidden}): not a volume that
         * is absent, but a request that must be refused (INVALID_ARGUMENT), DeleteVolume included.
         */
        public boolean reserved() {
            return reserved;
        }
    }

    /**
     * The driver's own directory at the top of every share: volume and snapshot records. No volume may be (or be
     * below) it, since a pod that mounts it could rewrite what DeleteVolume does with other volumes.
     */
    public static final String METADATA_DIRECTORY = ".nfs-csi";

    /**
     * The one rule for which directories below a share can never be a volume: a subDir whose first segment starts
     * with '.' (hidden, for example {@value #METADATA_DIRECTORY}, the driver's metadata, or a server's
     * {@code .snapshot}). Empty and {@code .} segments are skipped first ({@code /./.nfs-csi} is {@code .nfs-csi}),
     * as the node's {@link NfsSource} tolerates them. Called for new volumes
     * ({@link VolumeParameters}), for every volume ID ({@link #parse}) and for the node's {@code volume_context}
     * ({@link VolumeContext}).
     *
     * @throws InvalidException with {@link InvalidException#reserved()} true
     */
    public static void checkNotHidden(String field, String subDir) {
        if (subDir == null) {
            return;
        }
        String first = "";
        for (String segment : subDir.split("/")) {
            if (!segment.isEmpty() && !segment.equals(".")) {
                first = segment;
                break;
            }
        }
        if (first.startsWith(".") && !first.equals("..")) {
            throw new InvalidException(field, quote(subDir) + " starts with a hidden directory \"" + NfsSource.printable(first)
                    + "\": names starting with '.' (such as " + METADATA_DIRECTORY
                    + ", the driver's records) are never volumes", true);
        }
    }

    public VolumeId {
        checkServer(server);
        checkShare(share);
        checkSubDir(subDir);
        checkName(name);
        if (legacy) {
            if (original == null) {
                throw new InvalidException("original", "is required for a csi-driver-nfs ID");
            }
            if (original.startsWith(PREFIX)) {
                throw new InvalidException("original", quote(original) + " starts with " + PREFIX
                        + ", which marks our format, not csi-driver-nfs's");
            }
            Fields parsed = legacyFields(original);
            if (!parsed.equals(new Fields(server, share, subDir, name, onDelete))) {
                throw new InvalidException("original", quote(original) + " does not hold these fields: " + parsed);
            }
        } else {
            if (original != null) {
                throw new InvalidException("original", "must be null for an ID in our format");
            }
            if (name.isEmpty()) {
                throw new InvalidException("name", "is required");
            }
            if (onDelete == null) {
                throw new InvalidException("onDelete", "is required");
            }
        }
        try {
            NfsSource.of(server, share, subDir);
        } catch (CsiException.InvalidArgument e) {
            // the checks above are stricter than NfsSource's; this is a safety net
            throw new InvalidException("volume_id", "is not a valid NFS source: " + e.getMessage());
        }
    }

    /**
     * The fields without {@code original}; for a csi-driver-nfs ID the original is re-created in its 5-segment
     * form {@code server#baseDir#subDir#name#onDelete}.
     */
    public VolumeId(String server, String share, String subDir, String name, OnDelete onDelete, boolean legacy) {
        this(server, share, subDir, name, onDelete, legacy,
                legacy ? legacyFormat(server, share, subDir, name, onDelete) : null);
    }

    /**
     * The ID of a new volume, in our format.
     *
     * @param share absolute; normalized here ({@code //}, {@code /./} and a trailing '/' are dropped)
     * @throws InvalidException naming the first invalid field
     */
    public static VolumeId create(String server, String share, String subDir, String name, OnDelete onDelete) {
        return new VolumeId(server, normalizeShare(share), subDir, name, onDelete, false, null);
    }

    /**
     * Reads an ID in our format or in one of csi-driver-nfs's (see the class comment).
     *
     * @throws InvalidException if the ID is malformed, of an unknown version, or has an invalid field
     */
    public static VolumeId parse(String id) {
        if (id == null || id.isEmpty()) {
            throw new InvalidException("volume_id", "is required");
        }
        if (!id.startsWith(PREFIX)) {
            Fields f = legacyFields(id);
            return new VolumeId(f.server, f.share, f.subDir, f.name, f.onDelete, true, id);
        }
        String[] segments = id.split(String.valueOf(SEPARATOR), -1);
        String version = segments[0].substring(PREFIX.length());
        if (!version.equals(Integer.toString(VERSION))) {
            throw new InvalidException("version", version.matches("[1-9][0-9]{0,8}")
                    ? version + " of volume ID " + quote(id) + " is not known to this driver (it reads "
                            + VERSION + ")"
                    : quote(version) + " of volume ID " + quote(id) + " is not a version number");
        }
        if (segments.length != SEGMENTS) {
            throw new InvalidException("volume_id", quote(id) + " has " + segments.length
                    + " '#'-separated segments; version " + VERSION + " has " + SEGMENTS);
        }
        OnDelete onDelete = null;
        for (OnDelete policy : OnDelete.values()) {
            if (policy.value().equals(segments[5])) {
                onDelete = policy;
            }
        }
        if (onDelete == null) {
            throw new InvalidException("onDelete", quote(segments[5]) + " is not one of delete, retain, archive");
        }
        return new VolumeId(segments[1], segments[2], segments[3], segments[4], onDelete, false, null);
    }

    /** The ID as CSI carries it: ours in version {@value #VERSION}, a csi-driver-nfs one exactly as it was parsed. */
    public String format() {
        if (legacy) {
            return original;
        }
        return new StringJoiner(String.valueOf(SEPARATOR))
                .add(PREFIX + VERSION).add(server).add(share).add(subDir).add(name).add(onDelete.value())
                .toString();
    }

    /**
     * The CreateVolume name (the PV name) of this volume: {@link #name()}, or, for a csi-driver-nfs ID without one,
     * the subDir, which csi-driver-nfs makes the PV name when the StorageClass sets no subDir. Every call about one
     * volume locks on this, and directories are claimed under it.
     */
    public String volumeName() {
        return name.isEmpty() ? subDir : name;
    }

    /** The volume's directory, {@code server:/share/subDir}. */
    public NfsSource source() {
        return NfsSource.of(server, share, subDir);
    }

    /** The whole export that holds the volume, {@code server:/share}. */
    public NfsSource shareSource() {
        return NfsSource.of(server, share, null);
    }

    @Override
    public String toString() {
        return format();
    }

    // ---- field checks, shared with VolumeParameters; each failure names the field ----

    static void checkServer(String server) {
        if (server == null || server.isEmpty()) {
            throw new InvalidException("server", "is required");
        }
        checkCharacters("server", server);
        if (server.codePoints().anyMatch(c -> Character.isWhitespace(c) || Character.isSpaceChar(c))) {
            throw new InvalidException("server", quote(server) + " contains a blank");
        }
        if (server.indexOf('/') >= 0 || server.indexOf(',') >= 0) {
            throw new InvalidException("server", quote(server) + " contains '/' or ','");
        }
        if (server.contains("..")) {
            throw new InvalidException("server", quote(server) + " contains \"..\"");
        }
        if (server.startsWith("[") != server.endsWith("]")) {
            throw new InvalidException("server", quote(server) + " has an unbalanced bracket");
        }
    }

    /** Checks an absolute share and returns it normalized (no {@code //}, no {@code .} segment, no trailing '/'). */
    static String normalizeShare(String share) {
        if (share == null || share.isEmpty()) {
            throw new InvalidException("share", "is required");
        }
        checkCharacters("share", share);
        if (!share.startsWith("/")) {
            throw new InvalidException("share", quote(share) + " must be an absolute path");
        }
        checkLength("share", share);
        StringBuilder normalized = new StringBuilder();
        for (String segment : share.split("/")) {
            if (segment.equals("..")) {
                throw new InvalidException("share", quote(share) + " must not contain a \"..\" segment");
            }
            if (!segment.isEmpty() && !segment.equals(".")) {
                normalized.append('/').append(segment);
            }
        }
        return normalized.isEmpty() ? "/" : normalized.toString();
    }

    static void checkShare(String share) {
        String normalized = normalizeShare(share);
        if (!normalized.equals(share)) {
            throw new InvalidException("share", quote(share) + " is not normalized; expected " + quote(normalized));
        }
    }

    static void checkSubDir(String subDir) {
        if (subDir == null || subDir.isEmpty()) {
            throw new InvalidException("subDir", "is required: an empty subDir would make the whole share the volume");
        }
        checkCharacters("subDir", subDir);
        if (subDir.startsWith("/")) {
            throw new InvalidException("subDir", quote(subDir) + " must be a relative path");
        }
        checkLength("subDir", subDir);
        for (String segment : subDir.split("/", -1)) {
            if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
                throw new InvalidException("subDir", quote(subDir) + " must not contain a "
                        + (segment.isEmpty() ? "empty" : "\"" + segment + "\"") + " segment");
            }
        }
        checkNotHidden("subDir", subDir);
    }

    public static void checkName(String name) {
        if (name == null) {
            throw new InvalidException("name", "must not be null");
        }
        checkCharacters("name", name);
        if (name.indexOf('/') >= 0 || name.equals(".") || name.equals("..")) {
            throw new InvalidException("name", quote(name) + " must not contain '/' nor be \".\" or \"..\"");
        }
        if (utf8Length(name) > MAX_NAME_BYTES) {
            throw new InvalidException("name", "is " + utf8Length(name) + " bytes long; at most " + MAX_NAME_BYTES
                    + " are allowed");
        }
    }

    /**
     * A path no longer than {@value #MAX_PATH_BYTES} bytes whose segments are at most {@value #MAX_SEGMENT_BYTES}:
     * a longer one can exist on no share, and the file system would refuse it with ENAMETOOLONG.
     */
    private static void checkLength(String field, String path) {
        int length = utf8Length(path);
        if (length > MAX_PATH_BYTES) {
            throw new InvalidException(field, "is " + length + " bytes long; at most " + MAX_PATH_BYTES
                    + " are allowed");
        }
        for (String segment : path.split("/")) {
            if (utf8Length(segment) > MAX_SEGMENT_BYTES) {
                throw new InvalidException(field, "has a segment of " + utf8Length(segment) + " bytes; at most "
                        + MAX_SEGMENT_BYTES + " are allowed");
            }
        }
    }

    public static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /** No separator, no NUL or other control character, no half of a surrogate pair. */
    private static void checkCharacters(String field, String value) {
        if (value.indexOf(SEPARATOR) >= 0) {
            throw new InvalidException(field, quote(value) + " contains '#', which separates the fields of a volume ID");
        }
        if (value.codePoints().anyMatch(c -> Character.isISOControl(c) || (c >= 0xD800 && c <= 0xDFFF))) {
            throw new InvalidException(field, quote(value) + " contains a NUL, control character or unpaired surrogate");
        }
    }

    private static String quote(String value) {
        return "\"" + NfsSource.printable(value) + "\"";
    }

    // ---- csi-driver-nfs formats ----

    /** The fields of an ID apart from its format; compared to check that a legacy original matches them. */
    private record Fields(String server, String share, String subDir, String name, OnDelete onDelete) {}

    /** Splits a csi-driver-nfs ID as its getNfsVolFromID does; the constructor checks the fields. */
    private static Fields legacyFields(String id) {
        if (id.indexOf(SEPARATOR) < 0) {
            Matcher m = SLASH_FORM.matcher(id);
            if (!m.matches()) {
                throw new InvalidException("volume_id", quote(id) + " is neither ours (" + PREFIX + "...) nor a "
                        + "csi-driver-nfs ID (server#baseDir#subDir[#uuid[#onDelete]] or server/baseDir/subDir)");
            }
            return new Fields(m.group(1), normalizeShare("/" + m.group(2)), m.group(3), "", null);
        }
        String[] segments = id.split(String.valueOf(SEPARATOR), -1);
        if (segments.length < 3 || segments.length > 5) {
            throw new InvalidException("volume_id", quote(id) + " has " + segments.length
                    + " '#'-separated segments; a csi-driver-nfs ID has 3 to 5");
        }
        String name = segments.length >= 4 ? segments[3] : "";
        OnDelete onDelete = null;
        if (segments.length == 5 && !segments[4].isEmpty()) {
            try {
                onDelete = OnDelete.parse("onDelete", segments[4]);
            } catch (CsiException.InvalidArgument e) {
                throw new InvalidException("onDelete", quote(segments[4]) + " is not one of delete, retain, archive");
            }
        }
        return new Fields(segments[0], normalizeShare("/" + segments[1]), trimSlashes(segments[2]), name, onDelete);
    }

    private static String trimSlashes(String s) {
        int start = 0;
        int end = s.length();
        while (start < end && s.charAt(start) == '/') {
            start++;
        }
        while (end > start && s.charAt(end - 1) == '/') {
            end--;
        }
        return s.substring(start, end);
    }

    /** The 5-segment form that current csi-driver-nfs writes; only called before the fields are checked. */
    private static String legacyFormat(String server, String share, String subDir, String name, OnDelete onDelete) {
        String baseDir = share == null ? "" : trimSlashes(share);
        return String.join(String.valueOf(SEPARATOR), Objects.toString(server, ""), baseDir,
                Objects.toString(subDir, ""), Objects.toString(name, ""), onDelete == null ? "" : onDelete.value());
    }
}
