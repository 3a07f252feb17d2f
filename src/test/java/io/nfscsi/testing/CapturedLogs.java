package io.nfscsi.testing;

import io.nfscsi.logging.LogFormat;
import io.nfscsi.logging.Logging;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;

/**
 * Everything every logger writes while it is open, in the driver's own format and at its most verbose level: the
 * driver's SLF4J backend ({@link Logging}: the driver's loggers and Netty's) pointed at a buffer, java.util.logging
 * (grpc-java's loggers) bridged into it at ALL, and {@code System.err} (stack traces printed by threads). Closing
 * restores the settings and streams.
 */
public final class CapturedLogs implements AutoCloseable {

    /** Above every level that {@code -v} distinguishes. */
    public static final int MOST_VERBOSE = 9;

    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final PrintStream stream = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    private final PrintStream originalErr = System.err;
    private final Logging.Settings originalSettings;
    private final java.util.logging.Logger julRoot = LogManager.getLogManager().getLogger("");
    private final Level originalJulLevel;
    private final Handler julHandler = Logging.julHandler();
    private final Handler[] originalJulHandlers;

    public CapturedLogs() {
        this(LogFormat.TEXT);
    }

    public CapturedLogs(LogFormat format) {
        this(format, Clock.systemDefaultZone());
    }

    public CapturedLogs(LogFormat format, Clock clock) {
        originalSettings = Logging.set(new Logging.Settings(MOST_VERBOSE, format, stream, clock));
        originalJulLevel = julRoot.getLevel();
        // the test configuration's console handler would print what the bridge captures, to the real stderr
        originalJulHandlers = julRoot.getHandlers();
        for (Handler h : originalJulHandlers) {
            julRoot.removeHandler(h);
        }
        julHandler.setLevel(Level.ALL);
        julRoot.addHandler(julHandler);
        julRoot.setLevel(Level.ALL);
        System.setErr(stream);
    }

    /** What was logged so far, one entry per line. */
    public List<String> lines() {
        stream.flush();
        String text = buffer.toString(StandardCharsets.UTF_8);
        return text.isEmpty() ? new ArrayList<>() : new ArrayList<>(List.of(text.split("\n")));
    }

    @Override
    public void close() {
        System.setErr(originalErr);
        julRoot.removeHandler(julHandler);
        for (Handler h : originalJulHandlers) {
            julRoot.addHandler(h);
        }
        julRoot.setLevel(originalJulLevel);
        Logging.set(originalSettings);
    }
}
