package io.nfscsi.metrics;

import java.util.Objects;

/**
 * Where the metrics endpoint listens, as Kubernetes components write it: {@code HOST:PORT}, {@code :PORT} for every
 * interface, {@code [::1]:PORT} for an IPv6 address.
 *
 * @param host the host name or address; empty for every interface
 * @param port 1 to 65535, or 0 for any free port (tests)
 */
public record MetricsAddress(String host, int port) {

    public MetricsAddress {
        Objects.requireNonNull(host, "host");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("--metrics-address port must be between 1 and 65535: " + port);
        }
    }

    /** Parses {@code value}; throws IllegalArgumentException naming {@code --metrics-address}. */
    public static MetricsAddress parse(String value) {
        int colon = value.lastIndexOf(':');
        if (colon < 0) {
            throw new IllegalArgumentException("--metrics-address \"" + value + "\" must be HOST:PORT or :PORT");
        }
        String host = value.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        } else if (host.contains(":")) {
            throw new IllegalArgumentException("--metrics-address \"" + value
                    + "\": write an IPv6 address in brackets, [::1]:PORT");
        }
        String port = value.substring(colon + 1);
        if (!port.matches("[0-9]{1,5}")) {
            throw new IllegalArgumentException("--metrics-address \"" + value + "\" has no port number");
        }
        return new MetricsAddress(host, Integer.parseInt(port));
    }

    /** As written on the command line. */
    public String format() {
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + port;
    }
}
