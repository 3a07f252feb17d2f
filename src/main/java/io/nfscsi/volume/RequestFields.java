package io.nfscsi.volume;

import io.nfscsi.csi.v1.Csi;
import io.nfscsi.error.CsiException;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;

/** Checks of request fields shared by the services; each failure names the field. */
public final class RequestFields {

    private RequestFields() {}

    public static String required(String field, String value) {
        if (value == null || value.isEmpty()) {
            throw new CsiException.InvalidArgument(field + " is required");
        }
        return value;
    }

    /** The longest path (PATH_MAX less its NUL) and path segment (NAME_MAX) Linux takes, in bytes. */
    private static final int MAX_PATH_BYTES = 4095;
    private static final int MAX_SEGMENT_BYTES = 255;

    /**
     * A CreateVolume or CreateSnapshot {@code name}: it names directories and record files on the share, so it is
     * one path segment without '#' or control characters, of at most {@link VolumeId#MAX_NAME_BYTES} bytes.
     */
    public static String name(String field, String value) {
        required(field, value);
        try {
            VolumeId.checkName(value);
        } catch (VolumeId.InvalidException e) {
            throw new CsiException.InvalidArgument(field + ": " + e.getMessage());
        }
        return value;
    }

    /** A CreateSnapshot {@code name}: as {@link #name}, and not hidden (it is the snapshot's directory). */
    public static String snapshotName(String field, String value) {
        name(field, value);
        if (value.startsWith(".")) {
            throw new CsiException.InvalidArgument(field + " \"" + NfsSource.printable(value)
                    + "\" must not start with '.'");
        }
        return value;
    }

    /** An absolute path without NUL, {@code .} or {@code ..} segments, as kubelet sends. */
    public static Path absolutePath(String field, String value) {
        required(field, value);
        if (!value.startsWith("/") || value.indexOf('\0') >= 0) {
            throw new CsiException.InvalidArgument(field + " \"" + value.replace("\0", "\\0")
                    + "\" must be an absolute path without NUL");
        }
        for (String segment : value.split("/")) {
            if (segment.equals("..") || segment.equals(".")) {
                throw new CsiException.InvalidArgument(field + " \"" + value + "\" must not contain . or ..");
            }
        }
        pathTooLong(value).ifPresent(why -> {
            throw new CsiException.InvalidArgument(field + " " + why);
        });
        try {
            return Path.of(value).normalize();
        } catch (InvalidPathException e) {
            throw new CsiException.InvalidArgument(field + " \"" + value + "\" is not a valid path");
        }
    }

    /**
     * Why {@code path} is longer than Linux takes (ENAMETOOLONG): longer than {@value #MAX_PATH_BYTES} bytes, or with
     * a segment longer than {@value #MAX_SEGMENT_BYTES}; empty when it is not.
     */
    public static java.util.Optional<String> pathTooLong(String path) {
        int length = VolumeId.utf8Length(path);
        if (length > MAX_PATH_BYTES) {
            return java.util.Optional.of("is " + length + " bytes long; at most " + MAX_PATH_BYTES + " are allowed");
        }
        for (String segment : path.split("/")) {
            int n = VolumeId.utf8Length(segment);
            if (n > MAX_SEGMENT_BYTES) {
                return java.util.Optional.of("has a segment of " + n + " bytes; at most " + MAX_SEGMENT_BYTES
                        + " are allowed");
            }
        }
        return java.util.Optional.empty();
    }

    /** The mount access type of a capability: NFS is a file system, so block access is refused. */
    public static Csi.VolumeCapability.MountVolume mountCapability(Csi.VolumeCapability cap, String field) {
        if (cap.hasBlock()) {
            throw new CsiException.InvalidArgument(field + ".block: NFS volumes are file systems; only mount "
                    + "access is supported");
        }
        if (!cap.hasMount()) {
            throw new CsiException.InvalidArgument(field + ".access_type is required (mount)");
        }
        if (!cap.hasAccessMode() || cap.getAccessMode().getMode() == Csi.VolumeCapability.AccessMode.Mode.UNKNOWN) {
            throw new CsiException.InvalidArgument(field + ".access_mode is required");
        }
        if (cap.getAccessMode().getMode() == Csi.VolumeCapability.AccessMode.Mode.UNRECOGNIZED) {
            throw new CsiException.InvalidArgument(field + ".access_mode " + cap.getAccessMode().getModeValue()
                    + " is not a known mode");
        }
        return cap.getMount();
    }
}
