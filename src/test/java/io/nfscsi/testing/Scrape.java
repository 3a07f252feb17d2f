package io.nfscsi.testing;

import io.nfscsi.metrics.DriverMetrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape of a metrics endpoint, parsed from the Prometheus text format (version 0.0.4): every sample by name and
 * labels, and every metric family's TYPE. A line that is neither a comment nor a well-formed sample fails the parse,
 * so a test that scrapes also checks the format.
 */
public final class Scrape {

    private static final Pattern SAMPLE = Pattern.compile(
            "([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\\{(.*)})? (-?[0-9.eE+-]+|NaN|[+-]Inf)(?: -?[0-9]+)?");
    private static final Pattern LABEL = Pattern.compile("([a-zA-Z_][a-zA-Z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\",?");
    private static final Pattern TYPE = Pattern.compile("# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (\\w+)");

    private final Map<String, Map<Map<String, String>, Double>> samples = new HashMap<>();
    private final Map<String, String> types = new HashMap<>();

    private Scrape() {
    }

    /** GETs {@code http://host:port/metrics} and parses it; fails on a status other than 200. */
    public static Scrape of(String host, int port) throws IOException, InterruptedException {
        try (HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build()) {
            HttpResponse<String> reply = client.send(HttpRequest.newBuilder(
                    URI.create("http://" + host + ":" + port + "/metrics")).timeout(Duration.ofSeconds(10)).build(),
                    HttpResponse.BodyHandlers.ofString());
            if (reply.statusCode() != 200) {
                throw new IOException("metrics endpoint answered " + reply.statusCode());
            }
            return parse(reply.body());
        }
    }

    /** What {@code metrics} would serve now, without HTTP: for unit tests of one recording hook. */
    public static Scrape of(DriverMetrics metrics) {
        try {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            PrometheusTextFormatWriter.create().write(out, metrics.registry().scrape());
            return parse(out.toString(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Parses a text-format exposition. */
    public static Scrape parse(String text) {
        Scrape s = new Scrape();
        for (String line : text.split("\n")) {
            if (line.isBlank()) {
                continue;
            }
            if (line.startsWith("#")) {
                Matcher t = TYPE.matcher(line);
                if (t.matches()) {
                    s.types.put(t.group(1), t.group(2));
                }
                continue;
            }
            Matcher m = SAMPLE.matcher(line);
            if (!m.matches()) {
                throw new IllegalArgumentException("not a sample line: " + line);
            }
            Map<String, String> labels = new LinkedHashMap<>();
            if (m.group(2) != null) {
                Matcher l = LABEL.matcher(m.group(2));
                int end = 0;
                while (l.find() && l.start() == end) {
                    labels.put(l.group(1), l.group(2).replace("\\\"", "\"").replace("\\n", "\n")
                            .replace("\\\\", "\\"));
                    end = l.end();
                }
                if (end != m.group(2).length()) {
                    throw new IllegalArgumentException("bad labels: " + line);
                }
            }
            s.samples.computeIfAbsent(m.group(1), k -> new HashMap<>()).put(labels, Double.parseDouble(
                    m.group(3).replace("+Inf", "Infinity").replace("-Inf", "-Infinity")));
        }
        return s;
    }

    /** The sample {@code name} whose labels include {@code labels} (name, value pairs), summed; 0 when none. */
    public double value(String name, String... labels) {
        double sum = 0;
        for (var e : samples.getOrDefault(name, Map.of()).entrySet()) {
            boolean match = true;
            for (int i = 0; i < labels.length; i += 2) {
                match &= labels[i + 1].equals(e.getKey().get(labels[i]));
            }
            if (match) {
                sum += e.getValue();
            }
        }
        return sum;
    }

    /** Whether any sample is named {@code name}. */
    public boolean has(String name) {
        return samples.containsKey(name);
    }

    /** Every sample name, with the names of the labels its samples carry. */
    public Map<String, Set<String>> labelNames() {
        Map<String, Set<String>> out = new HashMap<>();
        samples.forEach((name, series) -> {
            Set<String> labels = new TreeSet<>();
            series.keySet().forEach(l -> labels.addAll(l.keySet()));
            out.put(name, labels);
        });
        return out;
    }

    /** The TYPE line of family {@code family}, or null. */
    public String type(String family) {
        return types.get(family);
    }
}
