package io.nfscsi.conformance;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.testbed.DriverProcess;
import io.nfscsi.testbed.Shell;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Drives the driver as csi-sanity does: one driver process serving Identity, Controller and Node on one socket,
 * one mount directory and one staging directory for every scenario of {@link Catalogue}, run in order in one test.
 * After each scenario nothing of it may be left: no mount under either directory, nothing inside them, no volume
 * or snapshot directory or record on the share, no mount process. A scenario that leaves something fails, and its
 * leftovers are removed so that the next one starts from the same state.
 */
@Tag("nfs")
class ConformanceTest {

    static DriverProcess driver;
    static Bed bed;

    @BeforeAll
    static void start() throws Exception {
        export(Bed.SHARE, "127.0.0.0/8", 71);
        export(Bed.DENIED_SHARE, "127.0.0.3", 72);
        Bed.releaseServer2();
        Files.createDirectories(Bed.MOUNT_DIR);
        Files.createDirectories(Bed.STAGING_DIR);
        String[] flags = {"--mount-timeout", "30s", "--stats-timeout", "2s", "--share-check-interval", "0"};
        try {
            driver = DriverProcess.start(Bed.RUN, flags);
        } catch (IllegalStateException slowStart) {
            // on a test bed shared with other runs the JVM can take longer than DriverProcess waits: once more
            System.out.println("driver start: " + slowStart.getMessage().lines().findFirst().orElse("") + "; again");
            driver = DriverProcess.start(Bed.RUN, flags);
        }
        bed = new Bed(driver);
    }

    /** A fresh tmpfs at {@code dir}, exported to {@code client} only. */
    static void export(java.nio.file.Path dir, String client, int fsid) {
        Shell.sh("exportfs -u " + client + ":" + dir + " 2>/dev/null; mountpoint -q " + dir + " && umount -l " + dir
                + "; mkdir -p " + dir + " && mount -t tmpfs -o size=256m conformance" + fsid + " " + dir
                + " && exportfs -o rw,no_root_squash,no_subtree_check,insecure,fsid=" + fsid + " " + client + ":"
                + dir).orThrow();
    }

    @AfterAll
    static void stop() throws Exception {
        Bed.releaseServer2();
        if (bed != null) {
            bed.shutdown();
        }
        if (driver != null) {
            driver.close();
        }
        Shell.sh("exportfs -u 127.0.0.0/8:" + Bed.SHARE + "; exportfs -u 127.0.0.3:" + Bed.DENIED_SHARE
                + "; umount -l " + Bed.SHARE + "; umount -l " + Bed.DENIED_SHARE);
    }

    record Result(Scenario scenario, String failure, long millis) {}

    @Test
    void everyScenario_inOneDriver_withOneMountDirectory() {
        List<Scenario> scenarios = Catalogue.all();
        List<Result> results = new ArrayList<>();
        for (Scenario s : scenarios) {
            Result r = run(s);
            results.add(r);
            System.out.printf("%s %5d ms  %s%n", r.failure() == null ? "ok  " : "FAIL", r.millis(), s.name());
            if (r.failure() != null) {
                System.out.println("       " + r.failure().replace("\n", "\n       "));
            }
            System.out.flush();
        }
        List<Result> failed = results.stream().filter(r -> r.failure() != null).toList();
        System.out.printf("%d scenarios, %d passed, %d failed%n", results.size(), results.size() - failed.size(),
                failed.size());
        assertThat(failed).as("failed scenarios").extracting(r -> r.scenario().name() + ": " + r.failure())
                .isEmpty();
    }

    private static Result run(Scenario s) {
        long start = System.nanoTime();
        bed.begin(s);
        List<String> problems = new ArrayList<>();
        try {
            s.body().run(bed);
            String unmade = bed.unmadeCalls();
            if (unmade != null) {
                problems.add(unmade);
            }
        } catch (Bed.Mismatch | AssertionError e) {
            problems.add(e.getMessage());
        } catch (Exception e) {
            problems.add("unexpected " + e);
        }
        problems.addAll(bed.cleanUp());
        List<String> left = Bed.leftovers();
        if (!left.isEmpty()) {
            problems.add("left behind: " + String.join("; ", left));
            Bed.forceClean();
        }
        return new Result(s, problems.isEmpty() ? null : String.join("\n", problems),
                (System.nanoTime() - start) / 1_000_000);
    }
}
