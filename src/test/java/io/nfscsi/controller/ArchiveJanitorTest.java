package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
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
        ArchiveJanitor janitor = new ArchiveJanitor(null, now, Duration.ofDays(7), 4);

        assertThat(janitor.sweepShare(share)).isEqualTo(1);
        assertThat(share.resolve("archived-ns-old-20261101T000000Z")).doesNotExist();
        assertThat(share.resolve("archived-ns-new-20261125T110000Z")).isDirectory();
        assertThat(share.resolve("archived-no-timestamp")).isDirectory();
        assertThat(share.resolve("pvc-live")).isDirectory();
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
