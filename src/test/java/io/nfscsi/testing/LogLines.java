package io.nfscsi.testing;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Parses log lines back, strictly: a klog text line (header, quoted message, {@code key=value} pairs with Go-quoted
 * or bare values) or a Kubernetes JSON line (one object, nothing after it). A line that does not parse throws.
 */
public final class LogLines {

    /** klog's header: {@code Lmmdd hh:mm:ss.uuuuuu threadid file:line] }. */
    public static final Pattern KLOG_HEADER = Pattern.compile(
            "^([IWEF])(0[1-9]|1[0-2])(0[1-9]|[12]\\d|3[01]) ([01]\\d|2[0-3]):([0-5]\\d):([0-5]\\d)\\.(\\d{6}) "
                    + "([ \\d]{6}\\d) ([^ :\\]]+):(\\d+)\\] ");
    private static final ObjectMapper JSON = JsonMapper.builder()
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).build();

    /** A parsed text line: severity letter, {@code file:line}, message, keys in order (values unquoted). */
    public record Text(char severity, String caller, String message, Map<String, String> keys) {}

    private LogLines() {}

    public static Text text(String line) {
        Matcher m = KLOG_HEADER.matcher(line);
        if (!m.find()) {
            throw new IllegalArgumentException("no klog header: " + line);
        }
        int[] at = {m.end()};
        String message = quoted(line, at);
        Map<String, String> keys = new LinkedHashMap<>();
        while (at[0] < line.length()) {
            expect(line, at, ' ');
            int eq = line.indexOf('=', at[0]);
            if (eq < 0) {
                throw new IllegalArgumentException("a key without a value at " + at[0] + ": " + line);
            }
            String key = line.substring(at[0], eq);
            if (!key.matches("[A-Za-z_][A-Za-z0-9_.-]*")) {
                throw new IllegalArgumentException("bad key \"" + key + "\": " + line);
            }
            at[0] = eq + 1;
            String value;
            if (at[0] < line.length() && line.charAt(at[0]) == '"') {
                value = quoted(line, at);
            } else {
                int end = line.indexOf(' ', at[0]);
                end = end < 0 ? line.length() : end;
                value = line.substring(at[0], end);
                if (value.isEmpty() || value.contains("\"")) {
                    throw new IllegalArgumentException("bad bare value for " + key + ": " + line);
                }
                at[0] = end;
            }
            if (keys.put(key, value) != null) {
                throw new IllegalArgumentException("key " + key + " twice: " + line);
            }
        }
        return new Text(m.group(1).charAt(0), m.group(9) + ":" + m.group(10), message, keys);
    }

    /** A JSON line as Kubernetes writes it: an object with {@code ts} (a number), {@code caller} and {@code msg}. */
    public static JsonNode json(String line) {
        JsonNode node;
        try {
            node = JSON.readTree(line);
        } catch (Exception e) {
            throw new IllegalArgumentException("not JSON: " + line, e);
        }
        if (node == null || !node.isObject() || !node.path("ts").isNumber() || !node.path("caller").isTextual()
                || !node.path("msg").isTextual()) {
            throw new IllegalArgumentException("not a Kubernetes JSON log line: " + line);
        }
        return node;
    }

    private static void expect(String line, int[] at, char c) {
        if (at[0] >= line.length() || line.charAt(at[0]) != c) {
            throw new IllegalArgumentException("expected '" + c + "' at " + at[0] + ": " + line);
        }
        at[0]++;
    }

    /** A Go-quoted string at {@code at}; moves {@code at} past it. */
    private static String quoted(String line, int[] at) {
        expect(line, at, '"');
        StringBuilder b = new StringBuilder();
        while (true) {
            if (at[0] >= line.length()) {
                throw new IllegalArgumentException("unterminated string: " + line);
            }
            char c = line.charAt(at[0]++);
            if (c == '"') {
                return b.toString();
            }
            if (c < 0x20 || c == 0x7f) {
                throw new IllegalArgumentException("raw control character in a string: " + line);
            }
            if (c != '\\') {
                b.append(c);
                continue;
            }
            char e = line.charAt(at[0]++);
            switch (e) {
                case '"', '\\' -> b.append(e);
                case 'n' -> b.append('\n');
                case 'r' -> b.append('\r');
                case 't' -> b.append('\t');
                case 'x' -> b.append((char) Integer.parseInt(line.substring(at[0], at[0] += 2), 16));
                case 'u' -> b.append((char) Integer.parseInt(line.substring(at[0], at[0] += 4), 16));
                default -> throw new IllegalArgumentException("bad escape \\" + e + ": " + line);
            }
        }
    }
}
