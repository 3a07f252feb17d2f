package io.nfscsi.volume;

import io.nfscsi.error.CsiException;
import java.util.Locale;

/**
 * What DeleteVolume does with a volume's directory on the share. Spelled in lower case in StorageClass parameters,
 * {@code volume_context} and volume IDs, as csi-driver-nfs spells it.
 */
public enum OnDelete {
    /** Remove the directory and everything in it. */
    DELETE,
    /** Leave the directory as it is. */
    RETAIN,
    /** Keep the data under a new name, out of the way of a volume that reuses the name. */
    ARCHIVE;

    /** The spelling in parameters and IDs: {@code delete}, {@code retain} or {@code archive}. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * Reads a policy in any letter case.
     *
     * @param field the request field the value came from, for the error message
     * @throws CsiException.InvalidArgument naming {@code field} and the allowed values
     */
    public static OnDelete parse(String field, String value) {
        if (value != null && value.chars().allMatch(c -> c < 0x80)) {
            // ASCII only: toLowerCase would otherwise fold a Kelvin sign or a dotted capital I into ASCII letters
            String lower = value.toLowerCase(Locale.ROOT);
            for (OnDelete policy : values()) {
                if (policy.value().equals(lower)) {
                    return policy;
                }
            }
        }
        throw new CsiException.InvalidArgument(field + " \"" + (value == null ? "null" : NfsSource.printable(value))
                + "\" is not one of delete, retain, archive");
    }
}
