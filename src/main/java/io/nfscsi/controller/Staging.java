package io.nfscsi.controller;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import io.nfscsi.error.CsiException;
import io.nfscsi.fs.TreeDeleter;
import io.nfscsi.volume.VolumeId;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where a fill job builds a volume before renaming it into place:
 * {@code <share>/.nfs-csi/staging/<owner key>.<ownership token>}. Each job writes only below its own token's
 * directory, so that a job of another replica that lost its hold and wakes up again writes into (or deletes) its
 * own directory, never the volume another job finished; and the volume's directory appears complete, by one
 * rename.
 */
final class Staging {

    private static final Logger log = LoggerFactory.getLogger(Staging.class);
    static final String DIRECTORY = VolumeId.METADATA_DIRECTORY + "/staging";

    private Staging() {}

    /** The staging directory of this hold, relative to the share root. */
    static Path of(Ownership hold) {
        return Path.of(DIRECTORY, Owners.key(hold.subject()) + "." + hold.token());
    }

    /**
     * Removes the staging directories of {@code subject} other than {@code hold}'s own: what earlier owners (a
     * stale replica, a crashed process) left. Only an owner calls this.
     *
     * @return how many were removed
     */
    static int removeOthers(Path root, Ownership hold, TreeWorkPool treeWork, Deadline deadline) {
        Path dir = root.resolve(DIRECTORY);
        if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
            return 0;
        }
        String mine = of(hold).getFileName().toString();
        int removed = 0;
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir, Owners.key(hold.subject()) + ".*")) {
            for (Path e : entries) {
                if (!e.getFileName().toString().equals(mine) && remove(root, e.getFileName(), treeWork, deadline,
                        hold.subject() + ": removing " + e + ", the partial work of an earlier owner")) {
                    removed++;
                }
            }
        } catch (IOException e) {
            throw new CsiException.Internal("cannot list " + dir + ": " + e, e);
        }
        return removed;
    }

    /**
     * Removes one staging directory, as far as it goes. What remains is left for the next owner: a file that a
     * paused job of this same NFS client still holds open is renamed to {@code .nfs*} by the client and cannot be
     * removed until that job closes it, and the directory is never the volume's, so leaving it costs only space.
     *
     * @return whether it is gone
     */
    static boolean remove(Path root, Path name, TreeWorkPool treeWork, Deadline deadline, String why) {
        log.info("{}", why);
        try {
            TreeDeleter.delete(root, Path.of(DIRECTORY).resolve(name.getFileName()), treeWork, deadline);
            return true;
        } catch (CsiException e) {
            log.warn("{}: {}; the rest is left for the next owner", why, e.getMessage());
            return false;
        }
    }
}
