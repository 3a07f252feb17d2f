package io.nfscsi.cli;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as Kubernetes components spell them on their command lines ({@code 2m}, {@code 90s},
 * {@code 1h30m}, {@code 250ms}), so that flags carry over from csi-driver-nfs's manifests unchanged.
 */
final class GoDuration {

    private static final Pattern PART = Pattern.compile("(\\d+(?:\\.\\d+)?)(ns|us|µs|ms|s|m|h)");

    private GoDuration() {}

    /** @throws IllegalArgumentException with a one-line reason */
    static Duration parse(String text) {
        String s = text.strip();
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        Matcher m = PART.matcher(s);
        long nanos = 0;
        int end = 0;
        while (m.find() && m.start() == end) {
            double value = Double.parseDouble(m.group(1));
            long unit = switch (m.group(2)) {
                case "ns" -> 1L;
                case "us", "µs" -> 1_000L;
                case "ms" -> 1_000_000L;
                case "s" -> 1_000_000_000L;
                case "m" -> 60_000_000_000L;
                case "h" -> 3_600_000_000_000L;
                default -> throw new IllegalStateException(m.group(2));
            };
            double part = value * unit;
            if (part >= Long.MAX_VALUE - (double) nanos) {
                throw new IllegalArgumentException("\"" + text + "\" is too long a duration");
            }
            nanos += Math.round(part);
            end = m.end();
        }
        if (end == 0 || end != s.length()) {
            throw new IllegalArgumentException("\"" + text + "\" is not a duration such as 90s, 2m or 1h30m");
        }
        return Duration.ofNanos(nanos);
    }

    static String format(Duration d) {
        if (d.isZero()) {
            return "0";
        }
        long nanos = d.toNanos();
        if (nanos % 60_000_000_000L == 0) {
            return d.toMinutes() + "m";
        }
        if (nanos % 1_000_000_000L == 0) {
            return d.toSeconds() + "s";
        }
        if (nanos % 1_000_000L == 0) {
            return d.toMillis() + "ms";
        }
        return nanos + "ns";
    }
}
