package io.nfscsi.logging;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import org.slf4j.event.Level;

/**
 * One log record as one line, in either format. A line never holds a raw newline: the message and every value are
 * quoted and escaped, so that a log pipeline can split on newlines.
 *
 * <p>Text (klog): {@code I1201 10:02:46.451234       1 RequestLog.java:84] "GRPC call" method="CreateVolume"
 * code="OK"}: severity letter, month and day, local time with microseconds, the process id padded to 7, the
 * caller's file and line, then the message and the keys in klog's structured form (KEP 1602): strings quoted as Go
 * quotes them, numbers and booleans bare, an exception as {@code err="..."}.
 *
 * <p>JSON: {@code {"ts":1796119366451.234,"caller":"RequestLog.java:84","msg":"GRPC call","v":0,"method":...}}:
 * {@code ts} in milliseconds since the epoch as Kubernetes writes it, {@code v} the verbosity of an info line
 * (0 info and warnings, 4 debug, 5 trace), absent on error lines, which carry {@code err} instead.
 */
final class LogLine {

    /** Fields of one record; the keys in the order the caller added them. */
    record Event(Instant time, Level level, String caller, String message, List<Map.Entry<String, Object>> keyValues,
                 Throwable error) {}

    private LogLine() {}

    static String format(LogFormat format, Event e, long pid, ZoneId zone) {
        return format == LogFormat.JSON ? json(e) : text(e, pid, zone);
    }

    static String text(Event e, long pid, ZoneId zone) {
        StringBuilder b = new StringBuilder(160);
        LocalDateTime t = LocalDateTime.ofInstant(e.time(), zone);
        b.append(severity(e.level()));
        two(b, t.getMonthValue());
        two(b, t.getDayOfMonth());
        b.append(' ');
        two(b, t.getHour());
        b.append(':');
        two(b, t.getMinute());
        b.append(':');
        two(b, t.getSecond());
        b.append('.');
        String micros = Integer.toString(t.getNano() / 1000);
        b.repeat('0', 6 - micros.length()).append(micros);
        String id = Long.toString(pid);
        b.append(' ').repeat(' ', Math.max(0, 7 - id.length())).append(id).append(' ');
        b.append(e.caller()).append("] ");
        goQuote(b, e.message());
        if (e.error() != null) {
            b.append(" err=");
            goQuote(b, e.error().toString());
        }
        for (Map.Entry<String, Object> kv : e.keyValues()) {
            b.append(' ').append(key(kv.getKey())).append('=');
            Object v = kv.getValue();
            if (isBare(v)) {
                b.append(v);
            } else {
                goQuote(b, string(v));
            }
        }
        if (e.error() != null && e.level() == Level.ERROR) {
            b.append(" stacktrace=");
            goQuote(b, stackTrace(e.error()));
        }
        return b.append('\n').toString();
    }

    static String json(Event e) {
        StringBuilder b = new StringBuilder(200);
        long seconds = e.time().getEpochSecond();
        int nanos = e.time().getNano();
        // microseconds: a double, as log pipelines read the number, holds no more digits than these
        String fraction = Integer.toString(nanos % 1_000_000 / 1000);
        b.append("{\"ts\":").append(seconds * 1000 + nanos / 1_000_000).append('.')
                .repeat('0', 3 - fraction.length()).append(fraction);
        b.append(",\"caller\":");
        jsonQuote(b, e.caller());
        b.append(",\"msg\":");
        jsonQuote(b, e.message());
        if (e.level() != Level.ERROR) {
            b.append(",\"v\":").append(verbosity(e.level()));
        }
        if (e.error() != null) {
            b.append(",\"err\":");
            jsonQuote(b, e.error().toString());
        }
        for (Map.Entry<String, Object> kv : e.keyValues()) {
            b.append(',');
            jsonQuote(b, key(kv.getKey()));
            b.append(':');
            Object v = kv.getValue();
            if (v == null) {
                b.append("null");
            } else if (isBare(v) && !(v instanceof Double d && !Double.isFinite(d))
                    && !(v instanceof Float f && !Float.isFinite(f))) {
                b.append(v);
            } else {
                jsonQuote(b, string(v));
            }
        }
        if (e.error() != null && e.level() == Level.ERROR) {
            b.append(",\"stacktrace\":");
            jsonQuote(b, stackTrace(e.error()));
        }
        return b.append("}\n").toString();
    }

    /** The verbosity that klog gives a record of this level: {@code -v} at or above it shows the record. */
    static int verbosity(Level level) {
        return switch (level) {
            case TRACE -> 5;
            case DEBUG -> 4;
            default -> 0;
        };
    }

    private static char severity(Level level) {
        return switch (level) {
            case ERROR -> 'E';
            case WARN -> 'W';
            default -> 'I';
        };
    }

    private static String key(String key) {
        return key == null || key.isEmpty() ? "?" : key;
    }

    private static boolean isBare(Object v) {
        return v == null || v instanceof Boolean || v instanceof Integer || v instanceof Long || v instanceof Short
                || v instanceof Byte || v instanceof Double || v instanceof Float || v instanceof BigInteger
                || v instanceof BigDecimal;
    }

    /** A value's text; a {@code toString} that throws costs the value, never the line or the caller's work. */
    private static String string(Object v) {
        try {
            return String.valueOf(v);
        } catch (RuntimeException e) {
            return "<" + v.getClass().getName() + ".toString failed: " + e + ">";
        }
    }

    private static void two(StringBuilder b, int n) {
        if (n < 10) {
            b.append('0');
        }
        b.append(n);
    }

    private static String stackTrace(Throwable t) {
        StringWriter w = new StringWriter();
        t.printStackTrace(new PrintWriter(w));
        return w.toString().stripTrailing();
    }

    /** As Go's strconv.Quote: printable characters as they are, the rest escaped. */
    static void goQuote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == 0x7f) {
                        b.append("\\x").append(Character.forDigit(c >> 4, 16)).append(Character.forDigit(c & 15, 16));
                    } else if (Character.isISOControl(c) || c == '\u2028' || c == '\u2029'
                            || Character.isSurrogate(c) && !validPair(s, i)) {
                        unicode(b, c);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    /** A JSON string (RFC 8259): quote, backslash and control characters escaped. */
    static void jsonQuote(StringBuilder b, String s) {
        b.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || c == '\u2028' || c == '\u2029' || Character.isSurrogate(c) && !validPair(s, i)) {
                        unicode(b, c);
                    } else {
                        b.append(c);
                    }
                }
            }
        }
        b.append('"');
    }

    private static boolean validPair(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    private static void unicode(StringBuilder b, char c) {
        String hex = Integer.toHexString(c);
        b.append("\\u").repeat('0', 4 - hex.length()).append(hex);
    }
}
