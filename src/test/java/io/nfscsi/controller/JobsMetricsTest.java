package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.metrics.DriverMetrics;
import io.nfscsi.testing.Scrape;
import io.nfscsi.testing.TestPools;
import java.io.IOException;
import java.time.Clock;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** Background jobs as the metrics and the periodic log line show them: in flight, progress, outcome. */
@Timeout(30)
class JobsMetricsTest {

    private final DriverMetrics metrics = new DriverMetrics();
    private final Jobs jobs = new Jobs(Clock.systemUTC(), TestPools.shared(), metrics);

    @Test
    void runningJob_showsItsProgress_andItsPercentageWhereTheTotalIsKnown() throws Exception {
        CountDownLatch reported = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        AtomicLong read = new AtomicLong();
        Jobs.Job job = jobs.start("volume\0v1", "restore", "v1", "filling volume v1 from snapshot s1", "", j -> {
            j.expect(4 << 20, read::get);
            read.set(1 << 20);
            j.progress(10, 3 << 20);
            reported.countDown();
            finish.await();
            j.progress(40, 12 << 20);
        });
        assertThat(reported.await(10, TimeUnit.SECONDS)).isTrue();
        Scrape during = Scrape.of(metrics);

        assertThat(during.value("nfs_csi_jobs_in_flight", "kind", "restore")).isEqualTo(1);
        assertThat(during.value("nfs_csi_job_progress_entries", "kind", "restore", "job", "v1")).isEqualTo(10);
        assertThat(during.value("nfs_csi_job_progress_bytes", "kind", "restore", "job", "v1")).isEqualTo(3 << 20);
        assertThat(during.value("nfs_csi_job_progress_ratio", "kind", "restore", "job", "v1")).isEqualTo(0.25);
        assertThat(job.describe(Clock.systemUTC())).contains("10 entries, 3 MiB (25% of 4 MiB of input read)");

        finish.countDown();
        assertThat(jobs.await(job, Deadline.after(10, TimeUnit.SECONDS))).isTrue();
        Scrape after = Scrape.of(metrics);

        assertThat(after.value("nfs_csi_jobs_in_flight", "kind", "restore")).isZero();
        assertThat(after.value("nfs_csi_jobs_ended_total", "kind", "restore", "outcome", "ok")).isEqualTo(1);
        assertThat(after.value("nfs_csi_job_entries_done_total", "kind", "restore")).isEqualTo(40);
        assertThat(after.value("nfs_csi_job_bytes_done_total", "kind", "restore")).isEqualTo(12 << 20);
        assertThat(after.has("nfs_csi_job_progress_entries")).as("finished jobs leave the progress gauges").isFalse();
    }

    @Test
    void jobWithoutAKnownTotal_hasNoRatio_andAFailureIsCounted() throws Exception {
        CountDownLatch reported = new CountDownLatch(1);
        CountDownLatch finish = new CountDownLatch(1);
        Jobs.Job job = jobs.start("volume\0v2", "clone", "v2", "filling volume v2 from volume v0", "", j -> {
            j.progress(5, 100);
            reported.countDown();
            finish.await();
            throw new IOException("share went away");
        });
        assertThat(reported.await(10, TimeUnit.SECONDS)).isTrue();
        Scrape during = Scrape.of(metrics);

        assertThat(during.value("nfs_csi_job_progress_entries", "kind", "clone", "job", "v2")).isEqualTo(5);
        assertThat(during.has("nfs_csi_job_progress_ratio")).isFalse();
        assertThat(job.describe(Clock.systemUTC())).doesNotContain("%");

        finish.countDown();
        job.done.handle((v, t) -> null).get(10, TimeUnit.SECONDS);
        Scrape after = Scrape.of(metrics);
        assertThat(after.value("nfs_csi_jobs_ended_total", "kind", "clone", "outcome", "failed")).isEqualTo(1);
        assertThat(after.value("nfs_csi_jobs_in_flight", "kind", "clone")).isZero();
    }

    @Test
    void trackedDelete_showsTheEntriesItRemoved_whileItRuns_andCountsThemWhenItEnds() {
        AtomicLong removed = new AtomicLong();
        Jobs.Job delete = jobs.track("delete", "v3", "deleting volume v3");
        delete.follow(removed::get);
        removed.set(1234);
        Scrape during = Scrape.of(metrics);

        assertThat(during.value("nfs_csi_jobs_in_flight", "kind", "delete")).isEqualTo(1);
        assertThat(during.value("nfs_csi_job_progress_entries", "kind", "delete", "job", "v3")).isEqualTo(1234);
        assertThat(delete.describe(Clock.systemUTC())).contains("1234 entries");

        removed.set(5000);
        jobs.end(delete, "unfinished");
        jobs.end(delete, "unfinished");
        Scrape after = Scrape.of(metrics);
        assertThat(after.value("nfs_csi_jobs_in_flight", "kind", "delete")).isZero();
        assertThat(after.value("nfs_csi_job_entries_done_total", "kind", "delete")).isEqualTo(5000);
        assertThat(after.value("nfs_csi_jobs_ended_total", "kind", "delete", "outcome", "unfinished"))
                .as("ended once, however often end is called").isEqualTo(1);
        assertThat(after.has("nfs_csi_job_progress_entries")).isFalse();
    }
}
