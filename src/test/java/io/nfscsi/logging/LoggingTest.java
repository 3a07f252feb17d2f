package io.nfscsi.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nfscsi.testing.CapturedLogs;
import io.nfscsi.testing.LogLines;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;
import org.slf4j.event.Level;

class LoggingTest {

    @Test
    void slf4j_isBoundToTheDriversBackend() {
        assertThat(LoggerFactory.getLogger(LoggingTest.class)).isInstanceOf(KlogLogger.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 4, 6, 7, 9})
    void frameLogger_neverBelowInfo_whateverVerbosity_forItDumpsRequestSecrets(int verbosity) {
        assertThat(Logging.threshold("io.grpc.netty.shaded.io.grpc.netty.NettyServerHandler", verbosity))
                .isEqualTo(Level.INFO.toInt());
    }

    @Test
    void verbosity_levelsOfOwnAndLibraryLoggers() {
        String own = "io.nfscsi.controller.Provisioner";
        String library = "io.grpc.internal.ServerImpl";
        assertThat(Logging.threshold(own, 3)).isEqualTo(Level.INFO.toInt());
        assertThat(Logging.threshold(own, 4)).isEqualTo(Level.DEBUG.toInt());
        assertThat(Logging.threshold(own, 5)).isEqualTo(Level.TRACE.toInt());
        assertThat(Logging.threshold(library, 5)).isEqualTo(Level.INFO.toInt());
        assertThat(Logging.threshold(library, 6)).isEqualTo(Level.DEBUG.toInt());
        assertThat(Logging.threshold("io.grpc.netty.shaded.io.netty.bootstrap.ServerBootstrap", 0))
                .isEqualTo(Level.ERROR.toInt());
        assertThat(Logging.threshold(own, Logging.OFF)).isGreaterThan(Level.ERROR.toInt());
    }

    @Test
    void slf4jCall_text_namesThisFileAndLine_withFluentKeys() {
        List<String> lines;
        int line;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.TEXT)) {
            line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            LoggerFactory.getLogger("io.nfscsi.test").atInfo().addKeyValue("volumeID", "v-1").log("mounted {}", 3);
            lines = logs.lines();
        }
        assertThat(lines).hasSize(1);
        LogLines.Text text = LogLines.text(lines.getFirst());
        assertThat(text.caller()).isEqualTo("LoggingTest.java:" + line);
        assertThat(text.message()).isEqualTo("mounted 3");
        assertThat(text.keys()).containsExactly(java.util.Map.entry("volumeID", "v-1"));
    }

    @Test
    void javaUtilLogging_isBridged_intoTheSameFormat_withItsCaller() {
        List<String> lines;
        int line;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.JSON)) {
            line = new Throwable().getStackTrace()[0].getLineNumber() + 1;
            java.util.logging.Logger.getLogger("io.grpc.Example").log(java.util.logging.Level.WARNING, "lost {0}", "x");
            lines = logs.lines();
        }
        assertThat(lines).hasSize(1);
        JsonNode json = LogLines.json(lines.getFirst());
        assertThat(json.get("msg").asText()).isEqualTo("lost x");
        assertThat(json.get("caller").asText()).isEqualTo("LoggingTest.java:" + line);
        assertThat(json.get("v").asInt()).isZero();
    }

    @Test
    void nullMessages_fromEitherApi_areEmptyMessages() {
        List<String> lines;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.TEXT)) {
            LoggerFactory.getLogger("io.nfscsi.test").info(null);
            java.util.logging.Logger.getLogger("io.grpc.Example").log(java.util.logging.Level.WARNING, (String) null);
            lines = logs.lines();
        }
        assertThat(lines).hasSize(2).allSatisfy(l -> assertThat(LogLines.text(l).message()).isEmpty());
    }

    @Test
    void belowThreshold_nothingIsWritten() {
        List<String> lines;
        try (CapturedLogs logs = new CapturedLogs(LogFormat.TEXT)) {
            Logging.Settings s = Logging.settings();
            Logging.set(new Logging.Settings(0, LogFormat.TEXT, s.out(), s.clock()));
            LoggerFactory.getLogger("io.nfscsi.test").debug("hidden");
            LoggerFactory.getLogger("io.nfscsi.test").info("shown");
            lines = logs.lines();
        }
        assertThat(lines).singleElement().asString().contains("\"shown\"");
    }

    @Test
    void parse_acceptsTextAndJson_only() {
        assertThat(LogFormat.parse("json")).isEqualTo(LogFormat.JSON);
        assertThat(LogFormat.parse("text")).isEqualTo(LogFormat.TEXT);
        org.assertj.core.api.Assertions.assertThatIllegalArgumentException().isThrownBy(() -> LogFormat.parse("xml"));
    }
}
