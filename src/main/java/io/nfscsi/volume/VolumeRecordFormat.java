package io.nfscsi.volume;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Properties;
import java.util.regex.Pattern;

/**
 * Where a volume's record is on its share and how its mutable settings are spelled in it: what the controller
 * writes and the node reads at publish time, so that both agree on one format. The controller's record holds more
 * (see controller/VolumeRecords); this class knows only what the node needs.
 *
 * <p>A record holds the values the volume was created with ({@code mountOptions}, {@code onDelete},
 * {@code parameter.mountPermissions}) and, from the first ControllerModifyVolume on, the values it has now
 * ({@code current.*}). A record without {@code current.*} (written before volumes could be modified, or never
 * modified) has its created values now.
 */
public final class VolumeRecordFormat {

    /** The records' directory below the share. */
    public static final String DIRECTORY = VolumeId.METADATA_DIRECTORY + "/volumes";
    public static final String SUFFIX = ".properties";

    public static final String MOUNT_OPTIONS = "mountOptions";
    public static final String ON_DELETE = "onDelete";
    public static final String PARAMETER_PREFIX = "parameter.";
    public static final String CURRENT_MOUNT_OPTIONS = "current.mountOptions";
    public static final String CURRENT_ON_DELETE = "current.onDelete";
    public static final String CURRENT_MOUNT_PERMISSIONS = "current.mountPermissions";

    private static final Pattern SAFE_NAME = Pattern.compile("[A-Za-z0-9][A-Za-z0-9._-]{0,199}");

    private VolumeRecordFormat() {}

    /** The record's path below the share for any CSI name: the name itself when it is safe, else a digest of it. */
    public static String relativePath(String name) {
        String base = SAFE_NAME.matcher(name).matches() ? name : "sha256-" + sha256(name);
        return DIRECTORY + "/" + base + SUFFIX;
    }

    /** The mount options the volume has now; empty when the record holds none that parse. */
    public static Optional<List<String>> currentMountOptions(Properties p) {
        String options = p.getProperty(CURRENT_MOUNT_OPTIONS, p.getProperty(MOUNT_OPTIONS));
        if (options == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(List.copyOf(MountOptions.split("record." + MOUNT_OPTIONS, options)));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** The mode the volume's directory has now (0: left as made); empty when the record holds none that parses. */
    public static Optional<Integer> currentMountPermissions(Properties p) {
        String mode = p.getProperty(CURRENT_MOUNT_PERMISSIONS,
                p.getProperty(PARAMETER_PREFIX + VolumeParameters.MOUNT_PERMISSIONS));
        if (mode == null) {
            return Optional.empty();
        }
        try {
            return Optional.of(VolumeContext.parseMode("record.mountPermissions", mode));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Octal, four digits, as records and volume contexts spell a mode. */
    public static String octal(int mode) {
        return String.format("%04o", mode);
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
