package io.nfscsi.scripts;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./test-all --count}: the closing line counts every test case in the JUnit XML reports, also when surefire
 * rewrote a class's file for a second engine and its {@code <testsuite>} attributes count only that engine's tests.
 */
class TestAllCountTest {

    private static final Path HOME = Path.of(System.getProperty("nfscsi.home", ".")).toAbsolutePath().normalize();

    @TempDir
    Path reports;

    /** As surefire 3.5 writes a class that JUnit Jupiter ran, then jqwik: the attributes are jqwik's alone. */
    private static final String TWO_ENGINES = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="io.nfscsi.fs.TreeCopierTest" time="2.6" tests="1" errors="0" skipped="0" failures="0">
              <properties><property name="java.version" value="25"/></properties>
              <testcase name="copy_sameDirectory_invalidArgument" classname="io.nfscsi.fs.TreeCopierTest" time="0.01"/>
              <testcase name="copy_progress(int)[1]" classname="io.nfscsi.fs.TreeCopierTest" time="0.4">
                <system-out><![CDATA[a line that names <failure> and <skipped/> in passing]]></system-out>
              </testcase>
              <testcase name="copy_targetInsideSource" classname="io.nfscsi.fs.TreeCopierTest" time="0.02">
                <failure message="expected: 1" type="org.opentest4j.AssertionFailedError"><![CDATA[trace]]></failure>
              </testcase>
              <testcase name="copy randomTree copyComparesEqual" classname="TreeCopierTest" time="2.6"/>
            </testsuite>
            """;

    /** As the console launcher writes one engine's report: skipped and erroring cases, and the engine's output. */
    private static final String CONSOLE_ENGINE = """
            <?xml version="1.0" encoding="UTF-8"?>
            <testsuite name="JUnit Jupiter" tests="4" skipped="1" failures="0" errors="1" time="9.1">
            <testcase name="publish()" classname="io.nfscsi.walkthrough.StaticVolumeWalkthroughTest" time="1.2">
            <system-out><![CDATA[unique-id: [engine:junit-jupiter]]]></system-out>
            </testcase>
            <testcase name="stats()" classname="io.nfscsi.walkthrough.StaticVolumeWalkthroughTest" time="0.3">
            <skipped><![CDATA[assumption not met]]></skipped>
            </testcase>
            <testcase name="unpublish()" classname="io.nfscsi.walkthrough.StaticVolumeWalkthroughTest" time="0.1">
            <error message="boom" type="java.lang.IllegalStateException"><![CDATA[trace]]></error>
            </testcase>
            <testcase name="again()" classname="io.nfscsi.walkthrough.StaticVolumeWalkthroughTest" time="0.1"/>
            <system-out><![CDATA[after the cases: <failure> <error> <skipped>]]></system-out>
            </testsuite>
            """;

    private String count(Path... dirs) throws IOException, InterruptedException {
        var command = new java.util.ArrayList<String>();
        command.add(HOME.resolve("test-all").toString());
        command.add("--count");
        for (Path d : dirs) {
            command.add(d.toString());
        }
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        return out;
    }

    @Test
    void count_ofAClassRunByTwoEngines_countsEveryTestCase_notTheSuiteAttributes() throws Exception {
        Files.writeString(reports.resolve("TEST-io.nfscsi.fs.TreeCopierTest.xml"), TWO_ENGINES);

        assertThat(count(reports)).isEqualTo("3 passed, 1 failed, 0 skipped\n");
    }

    @Test
    void count_overTwoDirectories_addsThem_andSortsFailedSkippedAndPassed() throws Exception {
        Path unit = Files.createDirectory(reports.resolve("surefire-reports"));
        Path nfs = Files.createDirectory(reports.resolve("nfs-test-reports"));
        Files.writeString(unit.resolve("TEST-io.nfscsi.fs.TreeCopierTest.xml"), TWO_ENGINES);
        Files.writeString(unit.resolve("io.nfscsi.fs.TreeCopierTest-output.txt"), "<testcase name=\"not a report\"/>");
        Files.writeString(nfs.resolve("TEST-junit-jupiter.xml"), CONSOLE_ENGINE);

        assertThat(count(unit, nfs)).isEqualTo("5 passed, 2 failed, 1 skipped\n");
    }

    @Test
    void count_ofNoReports_isZero() throws Exception {
        assertThat(count(reports, reports.resolve("absent"))).isEqualTo("0 passed, 0 failed, 0 skipped\n");
    }
}
