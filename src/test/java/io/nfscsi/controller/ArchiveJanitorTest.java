package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.BoundedIo;
import io.nfscsi.testing.FakeMounter;
import io.nfscsi.testing.TestPools;
import io.nfscsi.volume.NfsSource;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ArchiveJanitorTest {

    @TempDir
    Path share;

    @Test
    void sweepShare_removesOnlyArchivesOlderThanRetention() throws Exception {
        Clock now = Clock.fixed(Instant.parse("2026-11-25T12:00:00Z"), ZoneOffset.UTC);
        Files.createDirectories(share.resolve("archived-ns-old-20261101T000000Z/deep"));
        Files.writeString(share.resolve("archived-ns-old-20261101T000000Z/deep/f"), "x");
        Files.createDirectories(share.resolve("archived-ns-new-20261125T110000Z"));
        Files.createDirectories(share.resolve("archived-no-timestamp"));
        Files.createDirectories(share.resolve("pvc-live"));
        ArchiveJanitor janitor = new ArchiveJanitor(null, now, Duration.ofDays(7), TestPools.walkers(4));

        assertThat(janitor.sweepShare(share)).isEqualTo(1);
        assertThat(share.resolve("archived-ns-old-20261101T000000Z")).doesNotExist();
        assertThat(share.resolve("archived-ns-new-20261125T110000Z")).isDirectory();
        assertThat(share.resolve("archived-no-timestamp")).isDirectory();
        assertThat(share.resolve("pvc-live")).isDirectory();
    }

    @Test
    void sweep_afterARestart_stillSweepsTheSharesLearnedBefore(@TempDir Path work) throws Exception {
        Clock now = Clock.fixed(Instant.parse("2026-11-25T12:00:00Z"), ZoneOffset.UTC);
        var key = new SharePool.ShareKey(NfsSource.of("nfs.example.com", "/exports", null), List.of());
        Path root;
        SharePool before = new SharePool(work, new FakeMounter(), new BoundedIo(2), now, Duration.ofMinutes(5), false,
                Duration.ofSeconds(10), KnownShares.load(work, List.of()));
        try (var lease = before.acquire(key, Deadline.after(10, TimeUnit.SECONDS))) {
            root = lease.root();
        }
        before.closeIdle();
        Files.createDirectories(root.resolve("archived-ns-old-20261101T000000Z"));

        SharePool after = new SharePool(work, new FakeMounter(), new BoundedIo(2), now, Duration.ofMinutes(5), false,
                Duration.ofSeconds(10), KnownShares.load(work, List.of()));
        new ArchiveJanitor(after, now, Duration.ofDays(7), TestPools.walkers(2)).sweep();
        assertThat(root.resolve("archived-ns-old-20261101T000000Z")).doesNotExist();
    }

    @Test
    void archivedAt_readsTheNamesTimestamp() {
        assertThat(ArchiveJanitor.archivedAt("archived-a-b-20261125T231500Z"))
                .contains(Instant.parse("2026-11-25T23:15:00Z"));
        assertThat(ArchiveJanitor.archivedAt("archived-a-2026")).isEmpty();
        assertThat(ArchiveJanitor.archivedAt("pvc-20261125T231500Z")).isEmpty();
        assertThat(ArchiveJanitor.archivedAt("archived-x-20261399T999999Z")).isEmpty();
    }
}
