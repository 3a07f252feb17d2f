package io.nfscsi.logging;

import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Marker;
import org.slf4j.event.KeyValuePair;
import org.slf4j.event.Level;
import org.slf4j.event.LoggingEvent;
import org.slf4j.helpers.LegacyAbstractLogger;
import org.slf4j.helpers.MessageFormatter;
import org.slf4j.spi.LoggingEventAware;

/**
 * An SLF4J logger that writes through {@link Logging}. Key-value pairs of the fluent API
 * ({@code log.atInfo().addKeyValue("volumeID", id).log("msg")}) become the line's keys; the caller is the first
 * stack frame outside the logging libraries.
 */
final class KlogLogger extends LegacyAbstractLogger implements LoggingEventAware {

    private static final StackWalker WALKER = StackWalker.getInstance();
    private static final Set<String> OWN_FRAMES = Set.of(KlogLogger.class.getName(),
            JulBridge.class.getName(), Logging.class.getName());
    private static final List<String> LOGGING_FRAMES = List.of("org.slf4j.",
            "java.util.logging.", "sun.util.logging.", "jdk.internal.logger.",
            "io.grpc.netty.shaded.io.netty.util.internal.logging.", "io.netty.util.internal.logging.");

    /** This logger's threshold under the settings it was computed for: one object, so that both change at once. */
    private record Threshold(Logging.Settings settings, int level) {}

    private transient volatile Threshold threshold = new Threshold(null, 0);

    KlogLogger(String name) {
        this.name = name;
    }

    private boolean enabled(Level level) {
        Logging.Settings s = Logging.settings();
        Threshold t = threshold;
        if (t.settings() != s) {
            t = new Threshold(s, Logging.threshold(name, s.verbosity()));
            threshold = t;
        }
        return level.toInt() >= t.level();
    }

    @Override public boolean isTraceEnabled() { return enabled(Level.TRACE); }
    @Override public boolean isDebugEnabled() { return enabled(Level.DEBUG); }
    @Override public boolean isInfoEnabled() { return enabled(Level.INFO); }
    @Override public boolean isWarnEnabled() { return enabled(Level.WARN); }
    @Override public boolean isErrorEnabled() { return enabled(Level.ERROR); }

    @Override
    protected String getFullyQualifiedCallerName() {
        return null;
    }

    @Override
    protected void handleNormalizedLoggingCall(Level level, Marker marker, String pattern, Object[] args,
                                               Throwable t) {
        Logging.write(level, caller(), MessageFormatter.basicArrayFormat(pattern, args), List.of(), t);
    }

    @Override
    public void log(LoggingEvent event) {
        if (!enabled(event.getLevel())) {
            return;
        }
        List<Map.Entry<String, Object>> keys = new ArrayList<>();
        if (event.getKeyValuePairs() != null) {
            for (KeyValuePair kv : event.getKeyValuePairs()) {
                keys.add(new AbstractMap.SimpleImmutableEntry<>(kv.key, kv.value));
            }
        }
        Object[] args = event.getArgumentArray();
        String message = args == null || args.length == 0 ? event.getMessage()
                : MessageFormatter.basicArrayFormat(event.getMessage(), args);
        Logging.write(event.getLevel(), caller(), message == null ? "" : message, keys, event.getThrowable());
    }

    /** A record from java.util.logging: its caller was found there already. */
    void logBridged(Level level, String caller, String message, Throwable t) {
        if (enabled(level)) {
            Logging.write(level, caller, message, List.of(), t);
        }
    }

    /** {@code File.java:123} of the first frame outside logging code; {@code ???:1} as klog says when unknown. */
    static String caller() {
        return WALKER.walk(frames -> frames
                .filter(f -> !OWN_FRAMES.contains(f.getClassName())
                        && LOGGING_FRAMES.stream().noneMatch(f.getClassName()::startsWith))
                .findFirst()
                .map(f -> (f.getFileName() != null ? f.getFileName() : "???") + ":" + Math.max(f.getLineNumber(), 1))
                .orElse("???:1"));
    }
}
