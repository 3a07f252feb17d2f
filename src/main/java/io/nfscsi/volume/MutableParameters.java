package io.nfscsi.volume;

import io.nfscsi.error.CsiException;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * What a VolumeAttributesClass may change on a volume after it was made: CreateVolume's {@code mutable_parameters}
 * and ControllerModifyVolume's. Keys are case-insensitive, as the StorageClass parameters are:
 * <ul>
 *   <li>{@code mountOptions}: comma-separated NFS mount options, checked as the StorageClass's are; each replaces
 *       the volume's option of the same name (the part before '='), the others stay
 *       ({@link MountOptions#overlay});</li>
 *   <li>{@code onDelete}: {@code delete}, {@code retain} or {@code archive};</li>
 *   <li>{@code mountPermissions}: octal mode of the volume's directory, 0 to leave it.</li>
 * </ul>
 * A key that is absent changes nothing: the spec forbids modifying a volume on the absence of a key.
 *
 * @param mountOptions     the new mount options, if asked for
 * @param onDelete         the new policy, if asked for
 * @param mountPermissions the new mode, if asked for
 */
public record MutableParameters(Optional<List<String>> mountOptions, Optional<OnDelete> onDelete,
                                OptionalInt mountPermissions) {

    /** No change. */
    public static final MutableParameters NONE = new MutableParameters(Optional.empty(), Optional.empty(),
            OptionalInt.empty());

    public MutableParameters {
        mountOptions = mountOptions.map(List::copyOf);
    }

    /**
     * Reads mutable parameters.
     *
     * @param field the request field, for messages: {@code mutable_parameters}
     * @throws CsiException.InvalidArgument naming the key that is unknown, repeated in another letter case, or
     *                                      whose value does not parse
     */
    public static MutableParameters parse(String field, Map<String, String> parameters) {
        Map<String, String> byKey = new HashMap<>();
        for (var e : parameters.entrySet()) {
            String key = e.getKey().toLowerCase(Locale.ROOT);
            if (!key.equals("mountoptions") && !key.equals("ondelete") && !key.equals("mountpermissions")) {
                throw new CsiException.InvalidArgument(field + " has unknown key \"" + NfsSource.printable(e.getKey())
                        + "\"; the mutable parameters are mountOptions, onDelete and mountPermissions");
            }
            if (byKey.putIfAbsent(key, e.getValue() == null ? "" : e.getValue()) != null) {
                throw new CsiException.InvalidArgument(field + " has key \"" + NfsSource.printable(e.getKey())
                        + "\" more than once, in different letter case");
            }
        }
        String options = byKey.get("mountoptions");
        String policy = byKey.get("ondelete");
        String mode = byKey.get("mountpermissions");
        return new MutableParameters(
                Optional.ofNullable(options).map(o -> MountOptions.split(field + ".mountOptions", o)),
                Optional.ofNullable(policy).map(p -> OnDelete.parse(field + ".onDelete", p)),
                mode == null ? OptionalInt.empty()
                        : OptionalInt.of(VolumeContext.parseMode(field + ".mountPermissions", mode)));
    }

    /** Whether nothing is asked for. */
    public boolean isEmpty() {
        return mountOptions.isEmpty() && onDelete.isEmpty() && mountPermissions.isEmpty();
    }

    /**
     * {@code current} with what is asked for applied: {@code mountOptions} {@linkplain MountOptions#overlay on top
     * of} {@code createdOptions}, the options the volume was created with, so that the latest class decides and an
     * earlier class's options do not linger.
     */
    public Settings applyTo(Settings current, List<String> createdOptions) {
        return new Settings(mountOptions.map(o -> MountOptions.overlay(createdOptions, o))
                .orElse(current.mountOptions()), onDelete.orElse(current.onDelete()),
                mountPermissions.orElse(current.mountPermissions()));
    }

    /**
     * The values of the mutable parameters that a volume has now.
     *
     * @param mountOptions     the options every mount of the volume (and of its share, for the controller) uses
     * @param onDelete         what DeleteVolume does; {@code null} in a damaged record: what the volume ID says
     * @param mountPermissions the mode of the volume's directory, 0 for "left as it was made"
     */
    public record Settings(List<String> mountOptions, OnDelete onDelete, int mountPermissions) {
        public Settings {
            mountOptions = List.copyOf(mountOptions);
            if (mountPermissions < 0 || mountPermissions > 07777) {
                throw new IllegalArgumentException("mountPermissions " + Integer.toOctalString(mountPermissions));
            }
        }
    }
}
