package io.nfscsi.logging;

import java.util.logging.Handler;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

/**
 * Routes java.util.logging (grpc-java logs through it) into the driver's output: the JDK's console handler is
 * removed and every record goes to the SLF4J logger of the same name, in the same format as the driver's own lines.
 */
final class JulBridge extends Handler {

    private final SimpleFormatter messages = new SimpleFormatter();

    /** Replaces the root logger's handlers by the bridge; the root level follows {@code -v}, so that records
     * nobody will see are not made. */
    static void install(int verbosity) {
        LogManager.getLogManager().reset();
        java.util.logging.Logger root = java.util.logging.Logger.getLogger("");
        root.addHandler(new JulBridge());
        root.setLevel(verbosity < 0 ? java.util.logging.Level.OFF
                : verbosity >= 7 ? java.util.logging.Level.ALL : verbosity >= 6 ? java.util.logging.Level.FINE : java.util.logging.Level.INFO);
    }

    static Level level(java.util.logging.Level jul) {
        int v = jul.intValue();
        if (v >= java.util.logging.Level.SEVERE.intValue()) {
            return Level.ERROR;
        } else if (v >= java.util.logging.Level.WARNING.intValue()) {
            return Level.WARN;
        } else if (v >= java.util.logging.Level.INFO.intValue()) {
            return Level.INFO;
        } else if (v >= java.util.logging.Level.FINE.intValue()) {
            return Level.DEBUG;
        }
        return Level.TRACE;
    }

    @Override
    public void publish(LogRecord record) {
        String name = record.getLoggerName() == null ? "" : record.getLoggerName();
        if (LoggerFactory.getLogger(name) instanceof KlogLogger logger) {
            logger.logBridged(level(record.getLevel()), KlogLogger.caller(), messages.formatMessage(record),
                    record.getThrown());
        }
    }

    @Override public void flush() { }

    @Override public void close() { }
}
