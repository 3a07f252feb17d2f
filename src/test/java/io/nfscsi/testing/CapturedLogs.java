package io.nfscsi.testing;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.lang.reflect.Constructor;
import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentMap;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogManager;
import java.util.logging.LogRecord;
import java.util.logging.SimpleFormatter;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything every logger writes while it is open, at the most verbose level: the SLF4J backend (slf4j-simple, the
 * driver's own loggers and Netty's) turned to TRACE and pointed at a buffer, java.util.logging (grpc-java's
 * loggers) at ALL with a handler on the root logger, and {@code System.err} (stack traces printed by threads).
 * Closing restores the levels and streams. slf4j-simple has no API to change a level after start, so this reaches
 * into its fields; it is test code for one backend, which {@code SecretSentinelTest} depends on.
 */
public final class CapturedLogs implements AutoCloseable {

    private static final String LEVEL_PROPERTY = "org.slf4j.simpleLogger.log.";
    private static final int TRACE = 0;

    private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
    private final PrintStream stream = new PrintStream(buffer, true, StandardCharsets.UTF_8);
    private final PrintStream originalErr = System.err;
    private final Object config;
    private final Object originalOutput;
    private final int originalDefaultLevel;
    private final Map<Object, Integer> originalLevels = new HashMap<>();
    private final Map<String, String> originalProperties = new HashMap<>();
    private final java.util.logging.Logger julRoot = LogManager.getLogManager().getLogger("");
    private final Level originalJulLevel;
    private final Handler julHandler;

    public CapturedLogs() throws ReflectiveOperationException {
        LoggerFactory.getLogger(CapturedLogs.class).trace("capturing"); // initialise the backend
        Class<?> simpleLogger = Class.forName("org.slf4j.simple.SimpleLogger");
        config = field(simpleLogger, "CONFIG_PARAMS").get(null);
        Field output = field(config.getClass(), "outputChoice");
        originalOutput = output.get(config);
        Constructor<?> choice = Class.forName("org.slf4j.simple.OutputChoice").getDeclaredConstructor(PrintStream.class);
        choice.setAccessible(true);
        output.set(config, choice.newInstance(stream));
        Field defaultLevel = field(config.getClass(), "defaultLogLevel");
        originalDefaultLevel = defaultLevel.getInt(config);
        defaultLevel.setInt(config, TRACE);
        // loggers made from now on: a per-logger property would win over the default level
        for (String name : System.getProperties().stringPropertyNames()) {
            if (name.startsWith(LEVEL_PROPERTY)) {
                originalProperties.put(name, System.getProperty(name));
                System.setProperty(name, "trace");
            }
        }
        // loggers made already
        Field current = field(simpleLogger, "currentLogLevel");
        Object factory = LoggerFactory.getILoggerFactory();
        @SuppressWarnings("unchecked")
        ConcurrentMap<String, Logger> loggers = (ConcurrentMap<String, Logger>) field(factory.getClass(), "loggerMap")
                .get(factory);
        for (Logger logger : loggers.values()) {
            if (simpleLogger.isInstance(logger)) {
                originalLevels.put(logger, current.getInt(logger));
                current.setInt(logger, TRACE);
            }
        }
        originalJulLevel = julRoot.getLevel();
        julHandler = new Handler() {
            private final SimpleFormatter format = new SimpleFormatter();

            @Override
            public void publish(LogRecord record) {
                stream.print("JUL " + format.format(record));
            }

            @Override public void flush() { }

            @Override public void close() { }
        };
        julHandler.setLevel(Level.ALL);
        julRoot.addHandler(julHandler);
        julRoot.setLevel(Level.ALL);
        System.setErr(stream);
    }

    /** What was logged so far, one entry per line. */
    public List<String> lines() {
        stream.flush();
        return new ArrayList<>(List.of(buffer.toString(StandardCharsets.UTF_8).split("\n")));
    }

    @Override
    public void close() throws ReflectiveOperationException {
        System.setErr(originalErr);
        julRoot.removeHandler(julHandler);
        julRoot.setLevel(originalJulLevel);
        Class<?> simpleLogger = Class.forName("org.slf4j.simple.SimpleLogger");
        Field current = field(simpleLogger, "currentLogLevel");
        for (var e : originalLevels.entrySet()) {
            current.setInt(e.getKey(), e.getValue());
        }
        // loggers made while capturing go quiet again, as the test configuration wants
        Object factory = LoggerFactory.getILoggerFactory();
        @SuppressWarnings("unchecked")
        ConcurrentMap<String, Logger> loggers = (ConcurrentMap<String, Logger>) field(factory.getClass(), "loggerMap")
                .get(factory);
        for (Logger logger : loggers.values()) {
            if (simpleLogger.isInstance(logger) && !originalLevels.containsKey(logger)) {
                current.setInt(logger, originalDefaultLevel);
            }
        }
        originalProperties.forEach(System::setProperty);
        field(config.getClass(), "defaultLogLevel").setInt(config, originalDefaultLevel);
        field(config.getClass(), "outputChoice").set(config, originalOutput);
    }

    private static Field field(Class<?> type, String name) throws NoSuchFieldException {
        for (Class<?> c = type; c != null; c = c.getSuperclass()) {
            try {
                Field f = c.getDeclaredField(name);
                f.setAccessible(true);
                return f;
            } catch (NoSuchFieldException next) {
                // look in the superclass
            }
        }
        throw new NoSuchFieldException(type.getName() + "." + name);
    }
}
