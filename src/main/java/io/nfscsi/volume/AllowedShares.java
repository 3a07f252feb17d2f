package io.nfscsi.volume;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * The exports that inline (ephemeral) volumes may mount: {@code --inline-allowed-shares}, a comma-separated list of
 * {@link SharePattern}s, e.g. {@code nfs.example.com:/exports/inline/**,*.lab.example.com:/scratch}. Empty allows
 * none.
 *
 * @param patterns in the order given; the first that matches is the one named in logs
 */
public record AllowedShares(List<SharePattern> patterns) {

    /** Allows no inline volume: the default. */
    public static final AllowedShares NONE = new AllowedShares(List.of());

    public AllowedShares {
        patterns = List.copyOf(patterns);
    }

    /**
     * Reads the flag's values (it may be given more than once); each value is a comma-separated list, blank entries
     * are skipped.
     *
     * @throws IllegalArgumentException naming {@code flag}, the entry and what is wrong with it
     */
    public static AllowedShares parse(String flag, List<String> values) {
        List<SharePattern> out = new ArrayList<>();
        for (String value : values) {
            for (String entry : value.split(",")) {
                String e = entry.strip();
                if (e.isEmpty()) {
                    continue;
                }
                try {
                    out.add(SharePattern.parse(e));
                } catch (IllegalArgumentException ex) {
                    throw new IllegalArgumentException(flag + " entry \"" + NfsSource.printable(e) + "\": "
                            + ex.getMessage() + " (SERVER:/PATH, SERVER * or *.domain, PATH ending in /** for "
                            + "everything below)");
                }
            }
        }
        return new AllowedShares(out);
    }

    /** The first pattern that allows {@code source}, if any. */
    public Optional<SharePattern> allowing(NfsSource source) {
        return patterns.stream().filter(p -> p.matches(source)).findFirst();
    }

    public boolean isEmpty() {
        return patterns.isEmpty();
    }

    /** The flag's value, which {@link #parse} reads back. */
    public String format() {
        return patterns.stream().map(SharePattern::format).collect(Collectors.joining(","));
    }
}
