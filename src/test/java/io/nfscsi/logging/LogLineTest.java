package io.nfscsi.logging;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import io.nfscsi.testing.LogLines;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.AbstractMap.SimpleImmutableEntry;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import org.junit.jupiter.api.Test;
import org.slf4j.event.Level;

class LogLineTest {

    static final Instant T = Instant.parse("2026-12-01T10:02:46.451234567Z");

    static LogLine.Event event(Level level, String message, Throwable error, Object... keyValues) {
        List<Map.Entry<String, Object>> keys = new java.util.ArrayList<>();
        for (int i = 0; i < keyValues.length; i += 2) {
            keys.add(new SimpleImmutableEntry<>((String) keyValues[i], keyValues[i + 1]));
        }
        return new LogLine.Event(T, level, "file.go:123", message, keys, error);
    }

    @Test
    void text_isKlogsHeader_thenQuotedMessage_thenKeys() {
        String line = LogLine.text(event(Level.INFO, "msg", null, "key", "value"), 1, ZoneOffset.UTC);

        // the example of the klog header (Lmmdd hh:mm:ss.uuuuuu threadid file:line]) and of KEP 1602
        assertThat(line).isEqualTo("I1201 10:02:46.451234       1 file.go:123] \"msg\" key=\"value\"\n");
    }

    @Test
    void text_severityLetters_andPidPadding() {
        assertThat(LogLine.text(event(Level.WARN, "m", null), 4242, ZoneOffset.UTC)).startsWith("W1201 ")
                .contains("    4242 file.go:123] ");
        assertThat(LogLine.text(event(Level.ERROR, "m", null), 12345678, ZoneOffset.UTC)).startsWith("E1201 ")
                .contains(" 12345678 file.go:123] ");
        assertThat(LogLine.text(event(Level.DEBUG, "m", null), 1, ZoneOffset.UTC)).startsWith("I1201 ");
        assertThat(LogLine.text(event(Level.INFO, "m", null), 1, ZoneOffset.ofHours(-11))).startsWith("I1130 23:02:46");
    }

    @Test
    void text_numbersAndBooleansBare_stringsQuoted_errorAsErr() {
        LogLines.Text line = LogLines.text(LogLine.text(event(Level.ERROR, "failed", new IllegalStateException("x \"y\""),
                "count", 3, "ok", true, "ratio", 0.5, "name", "a b", "none", null), 1, ZoneOffset.UTC).stripTrailing());

        assertThat(line.severity()).isEqualTo('E');
        assertThat(line.caller()).isEqualTo("file.go:123");
        assertThat(line.keys()).containsEntry("err", "java.lang.IllegalStateException: x \"y\"")
                .containsEntry("count", "3").containsEntry("ok", "true").containsEntry("ratio", "0.5")
                .containsEntry("name", "a b").containsEntry("none", "null");
        assertThat(line.keys().keySet()).containsExactly("err", "count", "ok", "ratio", "name", "none", "stacktrace");
        assertThat(line.keys().get("stacktrace")).contains("LogLineTest");
    }

    @Test
    void json_hasKubernetesFields_inTheirOrder() throws Exception {
        String line = LogLine.json(event(Level.INFO, "msg", null, "key", "value", "n", 7));

        assertThat(line).startsWith("{\"ts\":1796119366451.234,\"caller\":\"file.go:123\",\"msg\":\"msg\",\"v\":0,")
                .endsWith("}\n");
        JsonNode node = LogLines.json(line);
        assertThat(node.get("ts").asDouble()).isEqualTo(1796119366451.234);
        assertThat(node.get("key").asText()).isEqualTo("value");
        assertThat(node.get("n").isInt()).isTrue();
    }

    @Test
    void json_verbosityOfDebugAndTrace_errorLinesHaveErrNotV() {
        assertThat(LogLines.json(LogLine.json(event(Level.DEBUG, "m", null))).get("v").asInt()).isEqualTo(4);
        assertThat(LogLines.json(LogLine.json(event(Level.TRACE, "m", null))).get("v").asInt()).isEqualTo(5);
        assertThat(LogLines.json(LogLine.json(event(Level.WARN, "m", null))).get("v").asInt()).isZero();
        JsonNode error = LogLines.json(LogLine.json(event(Level.ERROR, "m", new RuntimeException("boom"))));
        assertThat(error.has("v")).isFalse();
        assertThat(error.get("err").asText()).isEqualTo("java.lang.RuntimeException: boom");
        JsonNode nan = LogLines.json(LogLine.json(event(Level.INFO, "m", null, "x", Double.NaN)));
        assertThat(nan.get("x").asText()).isEqualTo("NaN");
    }

    @Test
    void valueWhoseToStringThrows_costsTheValue_notTheLine() {
        Object hostile = new Object() {
            @Override
            public String toString() {
                throw new IllegalStateException("no");
            }
        };
        assertThat(LogLines.text(LogLine.text(event(Level.INFO, "m", null, "x", hostile), 1, ZoneOffset.UTC)
                .stripTrailing()).keys().get("x")).contains("toString failed");
        assertThat(LogLines.json(LogLine.json(event(Level.INFO, "m", null, "x", hostile))).get("x").asText())
                .contains("toString failed");
    }

    /** Whatever a message or a value holds (newlines, quotes, control characters), it is one line and reads back. */
    @Property(tries = 300)
    void anyText_isOneLine_andReadsBack_inBothFormats(@ForAll String message, @ForAll String value) {
        LogLine.Event e = event(Level.WARN, message, null, "value", value);
        String text = LogLine.text(e, 1, ZoneOffset.UTC);
        String json = LogLine.json(e);

        assertThat(text.indexOf('\n')).isEqualTo(text.length() - 1);
        assertThat(json.indexOf('\n')).isEqualTo(json.length() - 1);
        LogLines.Text t = LogLines.text(text.substring(0, text.length() - 1));
        assertThat(t.message()).isEqualTo(message);
        assertThat(t.keys()).containsEntry("value", value);
        JsonNode j = LogLines.json(json);
        assertThat(j.get("msg").asText()).isEqualTo(message);
        assertThat(j.get("value").asText()).isEqualTo(value);
    }
}
