package io.nfscsi.controller;

import io.nfscsi.controller.SharePool.ShareKey;
import io.nfscsi.fs.RecordFile;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The shares that ListVolumes, ListSnapshots, GetCapacity without parameters and the archive janitor look at: the
 * {@code --share} flags, then every share a call has named, remembered in {@value #FILE} under the working mount
 * directory so that a restarted controller lists what it listed before. The file holds one share a line in the
 * flag's syntax ({@link ControllerSettings.Share}); it is replaced as a {@link RecordFile} is, holds at
 * most {@value #MAX_LEARNED} shares (the oldest learned is forgotten first), and a damaged file costs only the lines
 * that do not parse. A controller whose working directory is new (another node, an emptyDir) knows only the flags
 * until calls teach it more.
 */
final class KnownShares {

    private static final Logger log = LoggerFactory.getLogger(KnownShares.class);
    static final String FILE = "known-shares";
    static final int MAX_LEARNED = 256;
    /** Larger than {@link #MAX_LEARNED} lines of any sane share; a bigger file is not ours, or damaged. */
    static final long MAX_FILE_BYTES = 256 * 1024;

    private final Optional<Path> file;
    private final List<ShareKey> configured;
    /** Shares learned from calls, oldest first; guarded by {@code this}. */
    private final LinkedHashSet<ShareKey> learned = new LinkedHashSet<>();
    /** Every key in {@link #configured} and {@link #learned}, for the lock-free check on every acquire. */
    private final Set<ShareKey> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();

    private KnownShares(Optional<Path> file, List<ShareKey> configured) {
        this.file = file;
        this.configured = List.copyOf(new LinkedHashSet<>(configured));
        seen.addAll(this.configured);
    }

    /** Shares known only while the process runs; for tests and benchmarks that do not restart. */
    static KnownShares inMemory() {
        return new KnownShares(Optional.empty(), List.of());
    }

    /** The {@code configured} shares and those remembered under {@code workingDir}. Never fails: see the class. */
    static KnownShares load(Path workingDir, List<ShareKey> configured) {
        KnownShares known = new KnownShares(Optional.of(workingDir.resolve(FILE)), configured);
        known.read();
        return known;
    }

    /** Remembers a share a call has named; writes the file when the share is new. */
    void learn(ShareKey key) {
        if (seen.contains(key)) {
            return;
        }
        synchronized (this) {
            if (!seen.add(key)) {
                return;
            }
            learned.add(key);
            while (learned.size() > MAX_LEARNED) {
                // a configured share is never in learned: forgetting a learned one leaves the flags alone
                ShareKey oldest = learned.removeFirst();
                seen.remove(oldest);
                log.info("forgetting share {}: more than {} shares learned", oldest.share(), MAX_LEARNED);
            }
            write();
        }
    }

    /** The flags' shares in flag order, then the learned ones, oldest first; no key twice. */
    synchronized List<ShareKey> all() {
        LinkedHashSet<ShareKey> all = new LinkedHashSet<>(configured);
        all.addAll(learned);
        return List.copyOf(all);
    }

    private void read() {
        Path f = file.orElseThrow();
        removeInterruptedWrites(f);
        String text;
        try {
            if (Files.size(f) > MAX_FILE_BYTES) {
                log.warn("ignoring {}: larger than {} bytes; it is rewritten when a call names a share", f,
                        MAX_FILE_BYTES);
                return;
            }
            // a damaged file may hold anything: decoding replaces what is not UTF-8, and such lines fail to parse
            text = new String(Files.readAllBytes(f), StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            log.warn("cannot read the known shares in {}: {}; starting with the --share flags only", f, e.toString());
            return;
        }
        int lineNo = 0;
        int skipped = 0;
        for (String line : text.split("\n")) {
            lineNo++;
            String s = line.strip();
            if (s.isEmpty() || s.startsWith("#")) {
                continue;
            }
            try {
                ControllerSettings.Share share = ControllerSettings.Share.parse("line " + lineNo, s);
                ShareKey key = new ShareKey(share.source(), share.mountOptions());
                if (seen.add(key)) {
                    learned.add(key);
                }
            } catch (IllegalArgumentException e) {
                skipped++;
                log.debug("{} line {} skipped: {}", f, lineNo, e.getMessage());
            }
        }
        while (learned.size() > MAX_LEARNED) {
            seen.remove(learned.removeFirst());
        }
        if (skipped > 0) {
            log.warn("{}: skipped {} lines that do not name a share; they are dropped at the next write", f, skipped);
        }
        log.info("known shares: {} from --share, {} remembered in {}", configured.size(), learned.size(), f);
    }

    /**
     * Removes the temporary files of writes that a killed process left: the working directory is this process's
     * alone (its mounts are directories, never touched here), so no other writer can be in the middle of one, and
     * the file they were to replace is intact. Temporary files are named after their writer, not after the file
     * (see {@link RecordFile}), so every one here is removed, whatever its naming.
     */
    private static void removeInterruptedWrites(Path f) {
        try (java.nio.file.DirectoryStream<Path> temps = Files.newDirectoryStream(f.getParent(), ".*.tmp")) {
            for (Path t : temps) {
                if (RecordFile.isTemporary(t.getFileName().toString())
                        && Files.isRegularFile(t, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                    Files.deleteIfExists(t);
                    log.info("removed {}: a write of the known shares that a crash interrupted", t);
                }
            }
        } catch (NoSuchFileException e) {
            // a new working directory: nothing was written yet
        } catch (IOException e) {
            log.warn("cannot remove interrupted writes of {}: {}", f, e.toString());
        }
    }

    /** Caller holds {@code this}. A failed write is logged: the shares stay known until the process ends. */
    private void write() {
        if (file.isEmpty()) {
            return;
        }
        Path f = file.get();
        List<String> lines = new ArrayList<>();
        lines.add("# shares the nfs-csi controller has served; rewritten by it, one SERVER:/EXPORT[,OPTIONS] a line");
        for (ShareKey key : learned) {
            lines.add(new ControllerSettings.Share(key.share(), key.options()).format());
        }
        try {
            RecordFile.writeBytes(f, (String.join("\n", lines) + "\n").getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            log.warn("cannot remember the known shares in {}: {}; a restarted controller will not list them", f,
                    e.toString());
        }
    }
}
