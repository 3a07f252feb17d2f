package io.nfscsi.volume;

import io.nfscsi.error.CsiException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * NFS mount options as one list: the capability's {@code mount_flags} (a StorageClass's or PV's
 * {@code mountOptions}), then the {@code mountOptions} volume attribute, then {@code ro} for a read-only publish.
 * Every source may hold comma-separated lists; the result has no duplicates and keeps first-seen order.
 */
public final class MountOptions {

    /** {@code name} or {@code name=value}; the value may hold anything printable but a comma or a blank. */
    private static final Pattern OPTION = Pattern.compile("[A-Za-z0-9_][A-Za-z0-9_.-]*(=[^,\\s]*)?");

    /** The NFS versions Linux has; for any other mount.nfs says only "mount system call failed". */
    private static final Pattern VERSION = Pattern.compile("(?i)(nfs)?vers=(2|3|4|4\\.[0-2])");

    private MountOptions() {}

    /**
     * Merges and validates.
     *
     * @param mountFlags      {@code volume_capability.mount.mount_flags}
     * @param attributeOptions the {@code mountOptions} volume attribute, already {@linkplain #split split}
     * @param readOnly         whether the publish is read-only
     */
    public static List<String> merge(List<String> mountFlags, List<String> attributeOptions, boolean readOnly) {
        Set<String> merged = new LinkedHashSet<>();
        for (String flag : mountFlags) {
            addAll(merged, "volume_capability.mount.mount_flags", flag);
        }
        merged.addAll(attributeOptions);
        if (readOnly) {
            merged.remove("rw");
            merged.add("ro");
        }
        return List.copyOf(merged);
    }

    /**
     * {@code over} on top of {@code base}: the entries of {@code base} whose name (the part before '=') no entry of
     * {@code over} has, then {@code over}. This is how a VolumeAttributesClass's {@code mountOptions} apply to a
     * volume's: option by option, each named one replacing the volume's of that name; the others stay.
     */
    public static List<String> overlay(List<String> base, List<String> over) {
        Set<String> named = new java.util.HashSet<>();
        for (String o : over) {
            named.add(name(o));
        }
        Set<String> out = new LinkedHashSet<>();
        for (String o : base) {
            if (!named.contains(name(o))) {
                out.add(o);
            }
        }
        out.addAll(over);
        return List.copyOf(out);
    }

    private static String name(String option) {
        int eq = option.indexOf('=');
        return eq < 0 ? option : option.substring(0, eq);
    }

    /** Splits one comma list, validating each entry. */
    public static List<String> split(String field, String csv) {
        Set<String> out = new LinkedHashSet<>();
        addAll(out, field, csv);
        return new ArrayList<>(out);
    }

    /**
     * Adds each entry of {@code csv}. A malformed entry is named by its position in the list and by what is wrong
     * with it, never quoted: the list may come from a secret ({@code secrets.mountOptions} of DeleteVolume and
     * DeleteSnapshot), and one rule for every source keeps any new caller from leaking one.
     */
    private static void addAll(Set<String> into, String field, String csv) {
        if (csv.indexOf('\0') >= 0 || csv.indexOf('\n') >= 0 || csv.indexOf('\r') >= 0) {
            throw new CsiException.InvalidArgument(field + " contains a NUL or newline");
        }
        String[] entries = csv.split(",", -1);
        for (int i = 0; i < entries.length; i++) {
            String option = entries[i].strip();
            if (option.isEmpty()) {
                continue;
            }
            if (!OPTION.matcher(option).matches()) {
                throw new CsiException.InvalidArgument(field + " has a malformed mount option: comma-separated entry "
                        + (i + 1) + " of " + entries.length + " " + problem(option)
                        + "; expected name or name=value");
            }
            checkVersion(field, option);
            into.add(option);
        }
    }

    private static void checkVersion(String field, String option) {
        String lower = option.toLowerCase(java.util.Locale.ROOT);
        if ((lower.startsWith("vers=") || lower.startsWith("nfsvers=")) && !VERSION.matcher(option).matches()) {
            throw new CsiException.InvalidArgument(field + " asks for an NFS version Linux does not have in option "
                    + option.substring(0, option.indexOf('=')) + "; known: 3, 4, 4.0, 4.1, 4.2");
        }
    }

    /** What is wrong with a malformed option, in words that do not repeat it. */
    private static String problem(String option) {
        if (option.chars().anyMatch(Character::isWhitespace)) {
            return "holds a blank";
        }
        int eq = option.indexOf('=');
        String name = eq < 0 ? option : option.substring(0, eq);
        if (name.isEmpty()) {
            return "has no name before '='";
        }
        char first = name.charAt(0);
        if (!(first == '_' || first < 128 && Character.isLetterOrDigit(first))) {
            return "does not start with a letter, digit or '_'";
        }
        return "has a name with a character other than letters, digits, '_', '.' and '-'";
    }
}
