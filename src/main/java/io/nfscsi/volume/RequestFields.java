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
        try {
            return Path.of(value).normalize();
        } catch (InvalidPathException e) {
            throw new CsiException.InvalidArgument(field + " \"" + value + "\" is not a valid path");
        }
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
