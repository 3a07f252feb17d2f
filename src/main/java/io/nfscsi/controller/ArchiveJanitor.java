package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.fs.TreeDeleter;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Removes archived volumes ({@code archived-<subDir>-<UTC timestamp>} at a share's top level) once they are older
 * than the retention period, on the shares this controller knows. The timestamp in the name decides, not the
 * directory's mtime, which the archived data's own writes may have moved.
 */
final class ArchiveJanitor {

    private static final Logger log = LoggerFactory.getLogger(ArchiveJanitor.class);
    private static final Pattern ARCHIVE = Pattern.compile(
            Pattern.quote(Provisioner.ARCHIVE_PREFIX) + ".+-(\\d{8}T\\d{6}Z)");

    private final SharePool pool;
    private final Clock clock;
    private final Duration retention;
    private final TreeWorkPool treeWork;

    ArchiveJanitor(SharePool pool, Clock clock, Duration retention, TreeWorkPool treeWork) {
        this.pool = pool;
        this.clock = clock;
        this.retention = retention;
        this.treeWork = treeWork;
    }

    /**
     * One pass over every known share ({@link SharePool#known}: the {@code --share} flags and the shares calls have
     * named, before a restart too); a share that fails is logged and the others are still swept.
     */
    void sweep() {
        pool.eachKnownShare(() -> Deadline.after(2, TimeUnit.MINUTES), (share, root) -> sweepShare(root),
                (share, e) -> log.warn("archive retention: skipping share {}: {}", share, e.getMessage()));
    }

    /** Removes expired archives directly below {@code root}; returns how many. */
    int sweepShare(Path root) {
        Instant cutoff = clock.instant().minus(retention);
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(root, Provisioner.ARCHIVE_PREFIX + "*")) {
            for (Path entry : entries) {
                Optional<Instant> at = archivedAt(entry.getFileName().toString());
                if (at.isPresent() && at.get().isBefore(cutoff)) {
                    TreeDeleter.delete(root, entry.getFileName(), treeWork, Deadline.after(1, TimeUnit.HOURS));
                    log.info("archive retention: removed {} (archived {}, older than {})", entry, at.get(), retention);
                    removed++;
                }
            }
        } catch (IOException e) {
            log.warn("archive retention: cannot list {}: {}", root, e.toString());
        }
        return removed;
    }

    /** When an archive was made, from its name; empty for a name that is not an archive's. */
    static Optional<Instant> archivedAt(String name) {
        Matcher m = ARCHIVE.matcher(name);
        if (!m.matches()) {
            return Optional.empty();
        }
        try {
            return Optional.of(Instant.from(Provisioner.ARCHIVE_TIME.parse(m.group(1))));
        } catch (DateTimeParseException e) {
            return Optional.empty();
        }
    }
}
