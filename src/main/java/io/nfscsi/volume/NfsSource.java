package io.nfscsi.volume;

import io.nfscsi.error.CsiException;

/**
 * An NFS export path on a server: {@code server:/share[/subDir]} as {@code mount} and the mount table spell it.
 *
 * @param server host name, IPv4 address or IPv6 address (with or without brackets)
 * @param path   absolute, normalized path on the server
 */
public record NfsSource(String server, String path) {

    public NfsSource {
        if (server == null || server.isBlank()) {
            throw new CsiException.InvalidArgument("server must not be empty");
        }
        if (server.chars().anyMatch(c -> c <= ' ' || c == '/' || c == ',' || c == 0x7f)) {
            throw new CsiException.InvalidArgument("server \"" + printable(server)
                    + "\" contains a space, control character, '/' or ','");
        }
        if (server.startsWith("[") != server.endsWith("]")) {
            throw new CsiException.InvalidArgument("server \"" + server + "\" has an unbalanced bracket");
        }
        path = normalizePath(path);
    }

    /** The export {@code share} of {@code server}, optionally narrowed to {@code subDir} below it. */
    public static NfsSource of(String server, String share, String subDir) {
        if (share == null || share.isEmpty()) {
            throw new CsiException.InvalidArgument("share must not be empty");
        }
        if (!share.startsWith("/")) {
            throw new CsiException.InvalidArgument("share \"" + printable(share) + "\" must be an absolute path");
        }
        checkPath("share", share);
        String path = share;
        if (subDir != null && !subDir.isEmpty()) {
            checkRelative("subDir", subDir);
            path = share + "/" + subDir;
        }
        return new NfsSource(server, path);
    }

    /** Rejects {@code ..}, NUL and control characters in a path taken from a request. */
    static void checkPath(String field, String value) {
        if (value.chars().anyMatch(c -> c < ' ' || c == 0x7f)) {
            throw new CsiException.InvalidArgument(field + " \"" + printable(value)
                    + "\" contains a NUL or control character");
        }
        for (String segment : value.split("/")) {
            if (segment.equals("..")) {
                throw new CsiException.InvalidArgument(field + " \"" + value + "\" must not contain \"..\"");
            }
        }
    }

    /** A path below the share: relative (a leading '/' is tolerated, as csi-driver-nfs does), no {@code ..}. */
    static void checkRelative(String field, String value) {
        checkPath(field, value);
        String trimmed = value.replaceAll("^/+", "");
        if (trimmed.isEmpty()) {
            throw new CsiException.InvalidArgument(field + " \"" + value + "\" names no directory");
        }
    }

    private static String normalizePath(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new CsiException.InvalidArgument("share path \"" + path + "\" must be absolute");
        }
        checkPath("share", path);
        String collapsed = path.replaceAll("/+", "/").replaceAll("(/\\.)+(/|$)", "/");
        if (collapsed.length() > 1 && collapsed.endsWith("/")) {
            collapsed = collapsed.substring(0, collapsed.length() - 1);
        }
        return collapsed;
    }

    /** The server as {@code mount} needs it: IPv6 addresses in brackets. */
    public String host() {
        if (!server.startsWith("[") && server.indexOf(':') >= 0) {
            return "[" + server + "]";
        }
        return server;
    }

    /** {@code host:/path}, the mount source. */
    public String format() {
        return host() + ":" + path;
    }

    /** Whether a mount-table source names this export (trailing slashes and duplicate slashes aside). */
    public boolean matches(String mountSource) {
        return host(mountSource).map(h -> h.equalsIgnoreCase(host())).orElse(false) && matchesPath(mountSource);
    }

    /**
     * Whether a mount-table source names this export's path, on whatever host name. The kernel shows an NFSv4
     * mount under the host name of the first mount of the same server (client trunking shares one client per
     * server), so {@code [::1]:/export} can appear as {@code 127.0.0.1:/export}: only the path is reliable.
     */
    public boolean matchesPath(String mountSource) {
        if (host(mountSource).isEmpty()) {
            return false;
        }
        try {
            return normalizePath(mountSource.substring(mountSource.indexOf('/'))).equals(path);
        } catch (CsiException e) {
            return false;
        }
    }

    /** The host part of {@code host:/path}: a host never holds '/', so the path starts at the first '/'. */
    private static java.util.Optional<String> host(String mountSource) {
        int slash = mountSource.indexOf('/');
        if (slash < 1 || mountSource.charAt(slash - 1) != ':') {
            return java.util.Optional.empty();
        }
        return java.util.Optional.of(mountSource.substring(0, slash - 1));
    }

    @Override
    public String toString() {
        return format();
    }

    static String printable(String s) {
        StringBuilder b = new StringBuilder();
        s.codePoints().forEach(c -> {
            if (c < ' ' || c == 0x7f) {
                b.append(String.format("\\x%02x", c));
            } else {
                b.appendCodePoint(c);
            }
        });
        return b.toString();
    }
}
