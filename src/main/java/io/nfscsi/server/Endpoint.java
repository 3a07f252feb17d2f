package io.nfscsi.server;

import java.nio.file.Path;

/**
 * Where the server listens: {@code unix:///csi/csi.sock} (also {@code unix:/csi/csi.sock}) or, for debugging,
 * {@code tcp://127.0.0.1:10000}.
 */
public sealed interface Endpoint {

    record Unix(Path socket) implements Endpoint {
        @Override public String toString() { return "unix://" + socket; }
    }

    record Tcp(String host, int port) implements Endpoint {
        @Override public String toString() { return "tcp://" + host + ":" + port; }
    }

    /** @throws IllegalArgumentException with a one-line reason */
    static Endpoint parse(String value) {
        if (value.startsWith("unix://")) {
            return unix(value.substring("unix://".length()), value);
        }
        if (value.startsWith("unix:")) {
            return unix(value.substring("unix:".length()), value);
        }
        if (value.startsWith("tcp://")) {
            String hostPort = value.substring("tcp://".length());
            int colon = hostPort.lastIndexOf(':');
            if (colon <= 0) {
                throw new IllegalArgumentException("endpoint " + value + " must be tcp://HOST:PORT");
            }
            String host = hostPort.substring(0, colon).replaceAll("^\\[(.*)]$", "$1");
            try {
                int port = Integer.parseInt(hostPort.substring(colon + 1));
                if (port < 0 || port > 65535) {
                    throw new NumberFormatException();
                }
                return new Tcp(host, port);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("endpoint " + value + " has an invalid port");
            }
        }
        throw new IllegalArgumentException("endpoint " + value + " must start with unix:// or tcp://");
    }

    private static Endpoint unix(String path, String value) {
        if (!path.startsWith("/")) {
            throw new IllegalArgumentException("endpoint " + value + " must name an absolute socket path");
        }
        return new Unix(Path.of(path));
    }
}
