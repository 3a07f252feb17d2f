package io.nfscsi.logging;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.time.Clock;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.slf4j.event.Level;

/**
 * The one place that says what is logged and how: the format, the verbosity ({@code -v}) and where lines go.
 * Loggers read the settings at every call, so a change applies to loggers made before it.
 *
 * <p>Levels by {@code -v}: the driver's own loggers ({@code io.nfscsi}) info at 0-3, debug at 4 (every call, the
 * polled ones too), trace at 5 and above; libraries (grpc-java, Netty) info until 6, debug at 6, trace at 7. Netty's
 * per-connection SO_KEEPALIVE warning on unix sockets stays off below 6. The HTTP/2 frame logger is never below
 * info, whatever {@code -v}: it dumps every DATA frame in hex, request secrets included.
 */
public final class Logging {

    /** Off: what unit tests run with (a classpath resource says so), where failures provoked on purpose are noise. */
    public static final int OFF = -1;

    private static final int NEVER = Integer.MAX_VALUE;
    private static final List<String> FRAME_LOGGERS = List.of(
            "io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler", "io.grpc.netty.NettyServerHandler");
    private static final List<String> BOOTSTRAP = List.of(
            "io.grpc.netty.shaded.io.netty.bootstrap", "io.netty.bootstrap");

    /**
     * What to log: {@code verbosity} as {@code -v} (or {@link #OFF}); {@code out} null for {@code System.err} as it
     * is when a line is written.
     */
    public record Settings(int verbosity, LogFormat format, PrintStream out, Clock clock) {
        public Settings(int verbosity, LogFormat format) {
            this(verbosity, format, null, Clock.systemDefaultZone());
        }
    }

    private static volatile Settings settings = defaults();
    private static final long PID = ProcessHandle.current().pid();

    private Logging() {}

    /** Sets the format and levels for every logger, and routes java.util.logging into the same output. */
    public static void configure(int verbosity, LogFormat format) {
        set(new Settings(verbosity, format));
        JulBridge.install(verbosity);
    }

    /** Replaces the settings (not the java.util.logging routing); returns the ones before. */
    public static Settings set(Settings next) {
        Settings before = settings;
        settings = next;
        return before;
    }

    /** A java.util.logging handler that writes records through these settings (tests add it to capture grpc-java). */
    public static java.util.logging.Handler julHandler() {
        return new JulBridge();
    }

    public static Settings settings() {
        return settings;
    }

    /** The least severe level that logger {@code name} writes under {@code verbosity}, as {@link Level#toInt()}. */
    static int threshold(String name, int verbosity) {
        if (verbosity < 0) {
            return NEVER;
        }
        if (FRAME_LOGGERS.stream().anyMatch(name::startsWith)) {
            return Level.INFO.toInt();
        }
        if (verbosity < 6 && BOOTSTRAP.stream().anyMatch(name::startsWith)) {
            return Level.ERROR.toInt();
        }
        if (name.startsWith("io.nfscsi.")) {
            return (verbosity >= 5 ? Level.TRACE : verbosity >= 4 ? Level.DEBUG : Level.INFO).toInt();
        }
        return (verbosity >= 7 ? Level.TRACE : verbosity >= 6 ? Level.DEBUG : Level.INFO).toInt();
    }

    static void write(Level level, String caller, String message, List<Map.Entry<String, Object>> keyValues,
                      Throwable error) {
        Settings s = settings;
        Clock clock = s.clock();
        String line = LogLine.format(s.format(),
                new LogLine.Event(clock.instant(), level, caller, message == null ? "" : message, keyValues, error), PID, clock.getZone());
        PrintStream out = s.out() != null ? s.out() : System.err;
        out.print(line);
        out.flush();
    }

    /** Verbosity 0 (info), unless the classpath has {@code io/nfscsi/logging/defaults.properties} saying otherwise. */
    private static Settings defaults() {
        int verbosity = 0;
        try (InputStream in = Logging.class.getResourceAsStream("defaults.properties")) {
            if (in != null) {
                Properties p = new Properties();
                p.load(in);
                String v = p.getProperty("verbosity", "0").trim();
                verbosity = v.equals("off") ? OFF : Integer.parseInt(v);
            }
        } catch (IOException | NumberFormatException e) {
            // the default
        }
        return new Settings(verbosity, LogFormat.TEXT);
    }
}
