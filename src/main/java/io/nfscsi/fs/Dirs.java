package io.nfscsi.fs;

import static java.nio.file.LinkOption.NOFOLLOW_LINKS;

import io.nfscsi.error.CsiException;
import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributeView;
import java.nio.file.attribute.BasicFileAttributes;

/**
 * Handle-relative primitives. Apart from the trusted root, nothing here resolves more than one name at a time
 * against an open directory, and never with a symbolic link followed, so a link can be seen but not traversed.
 */
final class Dirs {

    private Dirs() {}

    /** Opens the trusted root (a link to it is followed: the root comes from our configuration, not from a pod). */
    static SecureDirectoryStream<Path> openRoot(Path root) throws IOException {
        DirectoryStream<Path> stream = Files.newDirectoryStream(root);
        if (stream instanceof SecureDirectoryStream<Path> secure) {
            return secure;
        }
        stream.close();
        throw new CsiException.Internal(root + ": the file system offers no SecureDirectoryStream, without which a"
                + " tree cannot be walked safely; refusing to touch it");
    }

    /** The attributes of {@code name} itself (not of what it links to), or null when it does not exist. */
    static BasicFileAttributes lstat(SecureDirectoryStream<Path> dir, Path name) throws IOException {
        try {
            return dir.getFileAttributeView(name, BasicFileAttributeView.class, NOFOLLOW_LINKS).readAttributes();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The identity (device and inode) of an open directory. */
    static Object key(SecureDirectoryStream<Path> dir) throws IOException {
        return dir.getFileAttributeView(BasicFileAttributeView.class).readAttributes().fileKey();
    }

    /**
     * Opens the directory {@code name} in {@code dir}, or returns null when it does not exist.
     *
     * @param context what the caller is doing, to start a failure's message ("deleting a/b/c")
     * @param shown   {@code name} as the caller knows it, relative to the root ("a/b")
     * @throws CsiException.FailedPrecondition when it is a symbolic link or not a directory
     */
    static SecureDirectoryStream<Path> descend(SecureDirectoryStream<Path> dir, Path name, String context,
                                               String shown) throws IOException {
        BasicFileAttributes attrs = lstat(dir, name);
        if (attrs == null) {
            return null;
        }
        // Checked before opening, not only by the open's O_NOFOLLOW: opening a FIFO would block, and the check
        // gives a clear status where the failed open would give only an errno message.
        refuseUnlessDirectory(attrs, context, shown);
        try {
            return dir.newDirectoryStream(name, NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            // Replaced since the check: say what it is now rather than pass on an errno message.
            BasicFileAttributes now = lstat(dir, name);
            if (now != null) {
                refuseUnlessDirectory(now, context, shown);
            }
            throw e;
        }
    }

    static void refuseUnlessDirectory(BasicFileAttributes attrs, String context, String shown) {
        if (attrs.isSymbolicLink()) {
            throw new CsiException.FailedPrecondition(
                    context + ": " + shown + " is a symbolic link; refusing to follow it");
        }
        if (!attrs.isDirectory()) {
            throw new CsiException.FailedPrecondition(context + ": " + shown + " is not a directory");
        }
    }

    /** Closes, for cleanup paths where a failure to close must not hide the failure being reported. */
    static void closeQuietly(DirectoryStream<?> stream) {
        if (stream == null) {
            return;
        }
        try {
            stream.close();
        } catch (IOException | RuntimeException ignored) {
            // nothing to do: the handle is gone either way
        }
    }
}
