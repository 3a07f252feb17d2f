package io.nfscsi.controller;

import io.nfscsi.error.CsiException;
import io.nfscsi.fs.RecordFile;
import io.nfscsi.volume.VolumeId;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which volume owns which directory of a share, so that two volumes never share one (deleting one would wipe the
 * other). One file per subDir, {@code <share>/.nfs-csi/subdirs/<sha256 of subDir>.properties}, holding the owner's
 * CreateVolume name and content source. A claim is made by hard-linking a complete temporary file to that name:
 * {@code link(2)} fails when the name exists, atomically, on NFS as on a local file system, so that of two
 * controller replicas that claim one subDir at once exactly one wins, and a reader never sees half a claim. The
 * claim lives on the share, beside the records, so it survives restarts and is seen by every replica. It is made
 * before the directory and removed after it, so a directory that a volume is using always has its claim.
 * <p>
 * Nothing is put inside the volume's directory: pods see that directory and could forge or remove a marker.
 */
final class SubDirClaims {

    private static final Logger log = LoggerFactory.getLogger(SubDirClaims.class);
    static final String DIRECTORY = VolumeId.METADATA_DIRECTORY + "/subdirs";
    /** Present once the claims of the records written before claims existed have been made. */
    private static final String INDEXED = ".indexed";

    /** The owner of a subDir. */
    record Claim(String name, String subDir, String contentSource) {}

    private SubDirClaims() {}

    /** The claim on {@code subDir}, if any. */
    static Optional<Claim> read(Path shareRoot, String subDir) {
        Path file = file(shareRoot, subDir);
        Properties p;
        try {
            Optional<Properties> read = RecordFile.read(file);
            if (read.isEmpty()) {
                return Optional.empty();
            }
            p = read.get();
        } catch (IOException e) {
            throw new CsiException.Internal("cannot read the claim on " + subDir + " (" + file + "): " + e, e);
        }
        String name = p.getProperty("name");
        if (name == null) {
            // a claim is written whole before it is linked into place: this one was edited by hand
            log.warn("the claim {} on {} names no volume; treating {} as taken by an unknown volume", file, subDir,
                    subDir);
            name = "";
        }
        return Optional.of(new Claim(name, p.getProperty("subDir", subDir), p.getProperty("contentSource", "")));
    }

    /**
     * Claims {@code subDir} for the volume {@code name}.
     *
     * @return the claim that was already there (its owner may be {@code name} itself, from an earlier call), or
     *         empty when this call made the claim
     */
    static Optional<Claim> claim(Path shareRoot, String subDir, String name, String contentSource) {
        Path file = file(shareRoot, subDir);
        Properties p = new Properties();
        p.setProperty("name", name);
        p.setProperty("subDir", subDir);
        p.setProperty("contentSource", contentSource);
        try {
            if (RecordFile.claim(file, p,
                    "nfs-csi: the volume that owns this subDir; written by the controller, do not edit")) {
                return Optional.empty();
            }
        } catch (IOException e) {
            throw new CsiException.Internal("cannot claim " + subDir + " for volume " + name + ": " + e, e);
        }
        // claimed by an earlier call, or by another volume; released meanwhile: try again
        return read(shareRoot, subDir).or(() -> claim(shareRoot, subDir, name, contentSource));
    }

    /** Removes the claim on {@code subDir} if {@code name} holds it; another volume's claim stays. */
    static void release(Path shareRoot, String subDir, String name) {
        Optional<Claim> claim = read(shareRoot, subDir);
        if (claim.isEmpty()) {
            return;
        }
        if (!claim.get().name().equals(name)) {
            log.warn("not releasing {}: it is claimed by volume {}, not {}", subDir, claim.get().name(), name);
            return;
        }
        try {
            RecordFile.delete(file(shareRoot, subDir));
        } catch (IOException e) {
            throw new CsiException.Internal("cannot release the claim on " + subDir + ": " + e, e);
        }
    }

    /**
     * Makes the claims of volumes recorded before claims existed, once per share: every record claims its subDir.
     * Idempotent, and safe for several replicas at once (each claim is atomic; the marker comes last).
     */
    static void ensureIndexed(Path shareRoot) {
        Path marker = shareRoot.resolve(DIRECTORY).resolve(INDEXED);
        if (Files.exists(marker, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        int made = 0;
        for (VolumeRecords.Record r : VolumeRecords.list(shareRoot)) {
            if (r.subDir().isEmpty()) {
                continue;
            }
            Optional<Claim> previous = claim(shareRoot, r.subDir(), r.name(), r.contentSource());
            if (previous.isEmpty()) {
                made++;
            } else if (!previous.get().name().equals(r.name())) {
                log.warn("volumes {} and {} both record the directory {}; it stays claimed by {}",
                        previous.get().name(), r.name(), r.subDir(), previous.get().name());
            }
        }
        try {
            RecordFile.writeBytes(marker,
                    "claims made for the records that predate them\n".getBytes(StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new CsiException.Internal("cannot write " + marker + ": " + e, e);
        }
        if (made > 0) {
            log.info("claimed the directories of {} volumes recorded before claims existed on {}", made, shareRoot);
        }
    }

    static Path file(Path shareRoot, String subDir) {
        return shareRoot.resolve(DIRECTORY).resolve(sha256(subDir) + ".properties");
    }

    private static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(
                    s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
