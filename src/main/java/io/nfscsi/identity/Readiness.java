package io.nfscsi.identity;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * Whether the driver can do its job on this machine: the NFS mount helper is installed and every working
 * directory is usable. Returns the reason it cannot, if so.
 */
@FunctionalInterface
public interface Readiness {

    /** Empty when ready; else why not, in one line. */
    Optional<String> notReadyReason();

    /** Where {@code mount} looks for its NFS helper. */
    List<Path> MOUNT_NFS = List.of(Path.of("/sbin/mount.nfs"), Path.of("/usr/sbin/mount.nfs"));

    /**
     * {@code check}, run now and then again in the background whenever an answer older than {@code maxAge} is read:
     * reads never wait for it (see {@link KeptReadiness}).
     */
    static Readiness keptCurrent(Readiness check, Duration maxAge, Clock clock) {
        return new KeptReadiness(check, maxAge, clock);
    }

    /** The production check: {@code mount.nfs} is executable and each directory is a writable directory. */
    static Readiness of(List<Path> helpers, List<Path> workingDirectories) {
        return () -> {
            if (helpers.stream().noneMatch(Files::isExecutable)) {
                return Optional.of("the NFS mount helper is missing (looked for " + helpers
                        + "); install nfs-common or nfs-utils");
            }
            for (Path dir : workingDirectories) {
                if (!Files.isDirectory(dir) || !Files.isWritable(dir)) {
                    return Optional.of("working directory " + dir + " is not a writable directory");
                }
            }
            return Optional.empty();
        };
    }
}
