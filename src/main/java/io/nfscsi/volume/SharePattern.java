package io.nfscsi.volume;

import io.nfscsi.error.CsiException;
import java.net.Inet6Address;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Pattern;

/**
 * One entry of {@code --inline-allowed-shares}: which exports an inline volume may mount, as {@code SERVER:/PATH}.
 * Sample: {@code *.nfs.example.com:/exports/inline/**}.
 *
 * <ul>
 *   <li>SERVER: {@code *} is any server (names and addresses); {@code *.example.com} is any host name one label
 *       below {@code example.com} ({@code a.example.com}, not {@code example.com} nor {@code a.b.example.com}); else
 *       a host name, IPv4 address or IPv6 address (brackets optional), compared without regard to case, IPv6 in its
 *       canonical form. A name is compared as written: no lookup, so {@code nfs} and {@code nfs.example.com} are
 *       two servers.</li>
 *   <li>PATH: absolute; {@code *} as a whole segment matches any one segment; {@code **} as the last segment matches
 *       the path above it and every directory below. Without {@code **} the path must be the volume's path exactly.
 *       {@code //}, {@code /./} and a trailing {@code /} are dropped, {@code ..} is refused, as in {@link NfsSource}.</li>
 * </ul>
 *
 * <p>What is matched is the path that is mounted: {@code share} and {@code subDir} joined and normalized
 * ({@link NfsSource#path()}), so {@code share: /exports, subDir: a} is {@code /exports/a} and needs a pattern that
 * reaches it ({@code /exports/a}, {@code /exports/*} or {@code /exports/**}).
 *
 * @param server   {@code *}, {@code *.}suffix, or a canonical host (lower case, IPv6 without brackets)
 * @param segments the path's segments before any {@code **}; each a name or {@code *}
 * @param subtree  whether the path ends in {@code **}
 */
public record SharePattern(String server, List<String> segments, boolean subtree) {

    /** Any server. */
    public static final String ANY_SERVER = "*";
    private static final String LABEL = "[a-z0-9_](?:[a-z0-9_-]*[a-z0-9_])?";
    private static final Pattern ONE_LABEL = Pattern.compile(LABEL);
    private static final Pattern HOST_NAME = Pattern.compile(LABEL + "(?:\\." + LABEL + ")*");

    public SharePattern {
        if (server == null || server.isEmpty()) {
            throw new IllegalArgumentException("the server is empty");
        }
        if (server.startsWith("*")) {
            server = server.toLowerCase(Locale.ROOT);
        }
        if (server.startsWith("*.")) {
            if (!HOST_NAME.matcher(server.substring(2)).matches() || server.matches(".*\\.[0-9]+")) {
                throw new IllegalArgumentException("\"" + server + "\": after \"*.\" comes a host name "
                        + "(letters, digits, '-', '_' and dots; not an address)");
            }
        } else if (!server.equals(ANY_SERVER)) {
            if (server.indexOf('*') >= 0) {
                throw new IllegalArgumentException("\"" + server + "\": '*' is the whole server or its first label"
                        + " (*.example.com)");
            }
            try {
                new NfsSource(server, "/");
            } catch (CsiException e) {
                throw new IllegalArgumentException(e.getMessage());
            }
            server = canonicalHost(server);
        }
        segments = List.copyOf(segments);
        for (String s : segments) {
            if (s.isEmpty() || s.equals(".") || s.equals("..") || s.equals("**")
                    || (s.indexOf('*') >= 0 && !s.equals("*"))) {
                throw new IllegalArgumentException("path segment \"" + s + "\": a name, or '*' for any one name; "
                        + "'**' only at the end, no '..'");
            }
        }
    }

    /**
     * Reads {@code SERVER:/PATH}.
     *
     * @throws IllegalArgumentException saying what is wrong (the caller names the flag)
     */
    public static SharePattern parse(String text) {
        int slash = text.indexOf('/');
        if (slash < 2 || text.charAt(slash - 1) != ':') {
            throw new IllegalArgumentException("\"" + NfsSource.printable(text) + "\" is not SERVER:/PATH");
        }
        String path = text.substring(slash);
        try {
            NfsSource.checkPath("path", path);
        } catch (CsiException e) {
            throw new IllegalArgumentException(e.getMessage());
        }
        List<String> segments = new ArrayList<>(segments(path));
        boolean subtree = !segments.isEmpty() && segments.getLast().equals("**");
        if (subtree) {
            segments.removeLast();
        }
        String server = text.substring(0, slash - 1);
        return new SharePattern(server, segments, subtree);
    }

    /** Whether an inline volume of {@code source} may be mounted under this pattern. */
    public boolean matches(NfsSource source) {
        return matchesServer(canonicalHost(source.server())) && matchesPath(segments(source.path()));
    }

    private boolean matchesServer(String host) {
        if (server.equals(ANY_SERVER)) {
            return true;
        }
        if (server.startsWith("*.")) {
            String suffix = server.substring(1);
            return host.endsWith(suffix)
                    && ONE_LABEL.matcher(host.substring(0, host.length() - suffix.length())).matches();
        }
        return server.equals(host);
    }

    private boolean matchesPath(List<String> path) {
        if (path.size() < segments.size() || (!subtree && path.size() != segments.size())) {
            return false;
        }
        if (path.stream().anyMatch(s -> s.equals("..") || s.equals("."))) {
            return false; // NfsSource never holds them; refused rather than trusted
        }
        for (int i = 0; i < segments.size(); i++) {
            if (!segments.get(i).equals("*") && !segments.get(i).equals(path.get(i))) {
                return false;
            }
        }
        return true;
    }

    /** The segments of an absolute path; empty, {@code .} and trailing segments dropped. */
    private static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        for (String s : path.split("/")) {
            if (!s.isEmpty() && !s.equals(".")) {
                out.add(s);
            }
        }
        return out;
    }

    /**
     * A server as this class compares it: lower case, brackets dropped, an IPv6 address in its canonical form (an
     * IPv4-mapped one as the IPv4 address). Only plain hexadecimal IPv6 forms are rewritten; anything else (a zone,
     * an embedded dotted quad) is compared as written, which can only refuse, never widen.
     */
    static String canonicalHost(String server) {
        String s = server.toLowerCase(Locale.ROOT);
        if (s.length() > 2 && s.startsWith("[") && s.endsWith("]")) {
            s = s.substring(1, s.length() - 1);
        }
        if (s.indexOf(':') >= 0 && s.chars().allMatch(c -> c == ':' || Character.digit(c, 16) >= 0)) {
            try {
                return Inet6Address.ofLiteral(s).getHostAddress();
            } catch (IllegalArgumentException e) {
                return s;
            }
        }
        return s;
    }

    /** {@code SERVER:/PATH}, which {@link #parse} reads back. */
    public String format() {
        String host = server.indexOf(':') >= 0 ? "[" + server + "]" : server;
        StringBuilder b = new StringBuilder(host).append(':');
        segments.forEach(s -> b.append('/').append(s));
        if (subtree) {
            b.append("/**");
        } else if (segments.isEmpty()) {
            b.append('/');
        }
        return b.toString();
    }

    @Override
    public String toString() {
        return format();
    }
}
