package io.nfscsi.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/** README.md and docs/*.md, read as a new operator reads them. */
class DocsTest {

    private static final Path HOME = Path.of(System.getProperty("nfscsi.home", ".")).toAbsolutePath().normalize();
    private static final Path MAIN = HOME.resolve("src/main/java/io/nfscsi");

    /** Capitalized words in the architecture block that are no class: a CSI call, a Kubernetes kind, a plural. */
    private static final Set<String> NOT_CLASSES = Set.of("CreateVolume", "StorageClass", "CPUs");

    static List<Path> documents() {
        List<Path> docs = new ArrayList<>(List.of(HOME.resolve("README.md")));
        try (Stream<Path> files = Files.list(HOME.resolve("docs"))) {
            files.filter(f -> f.toString().endsWith(".md")).sorted().forEach(docs::add);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return docs;
    }

    static String read(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Test
    void noDocument_usesAStepLabel_thatOnlyThePlansDefine() {
        Pattern step = Pattern.compile("\\bStep \\d");
        for (Path doc : documents()) {
            List<String> lines = read(doc).lines().filter(l -> step.matcher(l).find()).toList();
            assertThat(lines).as(HOME.relativize(doc).toString()).isEmpty();
        }
    }

    @Test
    void yamlMeantForACluster_namesNoTestBedAddressAsTheServer() {
        Pattern block = Pattern.compile("```yaml\\n(.*?)```", Pattern.DOTALL);
        Pattern server = Pattern.compile("^\\s*server:\\s*(\\S+)", Pattern.MULTILINE);
        int servers = 0;
        for (Path doc : documents()) {
            Matcher b = block.matcher(read(doc));
            while (b.find()) {
                Matcher s = server.matcher(b.group(1));
                while (s.find()) {
                    servers++;
                    assertThat(s.group(1)).as(HOME.relativize(doc) + ": " + s.group())
                            .doesNotStartWith("127.").isNotIn("localhost", "::1", "\"::1\"");
                }
            }
        }
        assertThat(servers).as("server: lines in the YAML examples").isGreaterThanOrEqualTo(2);
    }

    @Test
    void relativeLinks_reachFilesThatExist_andAnchorsReachHeadings() {
        Pattern link = Pattern.compile("\\]\\(([^)\\s]+)\\)");
        for (Path doc : documents()) {
            String text = read(doc);
            Set<String> anchors = anchors(text);
            Matcher m = link.matcher(text);
            while (m.find()) {
                String target = m.group(1);
                if (target.matches("[a-z]+:.*")) {
                    continue;
                }
                String file = target.contains("#") ? target.substring(0, target.indexOf('#')) : target;
                String anchor = target.contains("#") ? target.substring(target.indexOf('#') + 1) : "";
                if (!file.isEmpty()) {
                    assertThat(doc.getParent().resolve(file)).as(HOME.relativize(doc) + " links " + target).exists();
                } else {
                    assertThat(anchors).as(HOME.relativize(doc) + " links " + target).contains(anchor);
                }
            }
        }
    }

    /** GitHub's anchors: the heading in lower case, blanks as '-', punctuation other than '-' and '_' dropped. */
    private static Set<String> anchors(String markdown) {
        Set<String> out = new TreeSet<>();
        boolean code = false;
        for (String line : markdown.lines().toList()) {
            if (line.startsWith("```")) {
                code = !code;
            } else if (!code && line.startsWith("#")) {
                String title = line.replaceFirst("^#+\\s*", "").toLowerCase(Locale.ROOT);
                out.add(title.replaceAll("[^a-z0-9 _-]", "").replace(' ', '-'));
            }
        }
        return out;
    }

    @Test
    void architecture_listsEveryPackage_andNamesClassesWhereTheyAre() throws IOException {
        String readme = read(HOME.resolve("README.md"));
        int start = readme.indexOf("src/main/java/io/nfscsi/\n");
        int end = readme.indexOf("\nbin/nfs-csi", start);
        assertThat(start).as("the architecture block").isPositive();
        assertThat(end).isGreaterThan(start);
        String block = readme.substring(start, end);

        Set<String> packages = new TreeSet<>();
        try (Stream<Path> dirs = Files.list(MAIN)) {
            dirs.filter(Files::isDirectory).forEach(d -> packages.add(d.getFileName().toString()));
        }
        Pattern entry = Pattern.compile("^  ([a-z]+)/ ", Pattern.MULTILINE);
        Set<String> listed = new TreeSet<>();
        Matcher m = entry.matcher(block);
        List<int[]> spans = new ArrayList<>();
        while (m.find()) {
            listed.add(m.group(1));
            spans.add(new int[] {m.start(), m.end()});
        }
        assertThat(listed).as("packages in the README's architecture").isEqualTo(packages);

        Pattern capitalized = Pattern.compile("\\b[A-Z][A-Za-z0-9]*[a-z][A-Za-z0-9]*\\b");
        List<String> misplaced = new ArrayList<>();
        for (int i = 0; i < spans.size(); i++) {
            String pkg = block.substring(spans.get(i)[0] + 2, spans.get(i)[1] - 2);
            String text = block.substring(spans.get(i)[1], i + 1 < spans.size() ? spans.get(i + 1)[0] : block.length());
            Matcher c = capitalized.matcher(text);
            while (c.find()) {
                String name = c.group();
                if (!NOT_CLASSES.contains(name) && !Files.exists(MAIN.resolve(pkg).resolve(name + ".java"))) {
                    misplaced.add(pkg + "/" + name);
                }
            }
        }
        assertThat(misplaced).as("names in the architecture that are no class of their package").isEmpty();
    }
}
