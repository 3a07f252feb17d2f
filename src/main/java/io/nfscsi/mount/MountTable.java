package io.nfscsi.mount;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * A snapshot of the process's mount table, read from {@code /proc/self/mountinfo}. Whether a path is a mount point
 * is answered from here and never by stat-ing the path, which would block on a hung server.
 */
public final class MountTable {

    private static final Path MOUNTINFO = Path.of("/proc/self/mountinfo");

    private final List<MountEntry> entries;

    private MountTable(List<MountEntry> entries) {
        this.entries = List.copyOf(entries);
    }

    /** Reads the current mount table. */
    public static MountTable read() {
        try {
            return parse(Files.readString(MOUNTINFO, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + MOUNTINFO, e);
        }
    }

    /**
     * Parses mountinfo text (see proc(5)). Lines that do not have the documented shape are skipped rather than
     * failing the whole table: the kernel adds fields over time.
     */
    public static MountTable parse(String text) {
        List<MountEntry> parsed = new ArrayList<>();
        for (String line : text.split("\n")) {
            parseLine(line).ifPresent(parsed::add);
        }
        return new MountTable(parsed);
    }

    static Optional<MountEntry> parseLine(String line) {
        String[] f = line.strip().split(" ");
        int separator = Arrays.asList(f).indexOf("-");
        if (f.length < 10 || separator < 6 || f.length < separator + 3) {
            return Optional.empty();
        }
        try {
            return Optional.of(new MountEntry(
                    Integer.parseInt(f[0]), Integer.parseInt(f[1]), unescape(f[3]), Path.of(unescape(f[4])),
                    List.of(f[5].split(",")), unescape(f[separator + 1]), unescape(f[separator + 2]),
                    separator + 3 < f.length ? List.of(f[separator + 3].split(",")) : List.of()));
        } catch (RuntimeException e) {
            return Optional.empty();
        }
    }

    /** Decodes the kernel's octal escapes ({@code \040} for a space, {@code \011}, {@code \012}, {@code \134}). */
    static String unescape(String s) {
        if (s.indexOf('\\') < 0) {
            return s;
        }
        StringBuilder out = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '\\' && isOctal(s, i + 1)) {
                out.append((char) Integer.parseInt(s.substring(i + 1, i + 4), 8));
                i += 3;
            } else {
                out.append(c);
            }
        }
        return out.toString();
    }

    private static boolean isOctal(String s, int from) {
        if (from + 3 > s.length()) {
            return false;
        }
        for (int i = from; i < from + 3; i++) {
            char c = s.charAt(i);
            if (c < '0' || c > '7') {
                return false;
            }
        }
        return true;
    }

    public List<MountEntry> entries() {
        return entries;
    }

    /** The mount visible at {@code path}: the last one mounted there, if any. */
    public Optional<MountEntry> at(Path path) {
        Path p = path.toAbsolutePath().normalize();
        MountEntry top = null;
        for (MountEntry e : entries) {
            if (e.mountPoint().equals(p)) {
                top = e;
            }
        }
        return Optional.ofNullable(top);
    }

    /** How many mounts are stacked at {@code path}. */
    public int countAt(Path path) {
        Path p = path.toAbsolutePath().normalize();
        return (int) entries.stream().filter(e -> e.mountPoint().equals(p)).count();
    }

    /** Whether something is mounted at {@code path}. */
    public boolean isMountPoint(Path path) {
        return at(path).isPresent();
    }
}
