package io.nfscsi.fs;

import io.nfscsi.error.CsiException;
import io.nfscsi.posix.DirCalls;
import io.nfscsi.posix.ErrnoException;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SecureDirectoryStream;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * Paths below a trusted root (a mounted share) whose components a pod may have replaced with symbolic links. A
 * relative path is accepted only as plain names separated by single slashes; every component that exists must be
 * a real directory, checked through the open handle of its parent so that no link is followed while checking.
 */
public final class SafePaths {

    private SafePaths() {}

    /**
     * {@code root.resolve(relative)}, after checking that {@code relative} is plain and that every existing
     * component of it, the last included, is a directory and not a symbolic link. Components from the first absent
     * one on are not checked: nothing can exist below them.
     *
     * <p>The check holds when it is made; a caller that acts on the path later acts on whatever is there then. Use
     * {@link TreeDeleter} and {@link #createDirectories} where that matters.
     *
     * @throws CsiException.InvalidArgument    when {@code relative} is empty, absolute, or has an empty, "." or ".."
     *                                         segment, or a NUL
     * @throws CsiException.FailedPrecondition when an existing component is a symbolic link or not a directory
     */
    public static Path resolveUnder(Path root, String relative) {
        List<String> names = components(relative);
        String context = "resolving " + relative;
        SecureDirectoryStream<Path> dir = null;
        try {
            dir = Dirs.openRoot(root);
            for (int i = 0; i < names.size(); i++) {
                Path name = root.getFileSystem().getPath(names.get(i));
                String shown = prefix(names, i);
                if (i == names.size() - 1) {
                    BasicFileAttributes attrs = Dirs.lstat(dir, name);
                    if (attrs != null) {
                        Dirs.refuseUnlessDirectory(attrs, context, shown);
                    }
                    break;
                }
                SecureDirectoryStream<Path> next = Dirs.descend(dir, name, context, shown);
                if (next == null) {
                    break;
                }
                dir.close();
                dir = next;
            }
        } catch (IOException e) {
            throw new CsiException.Internal(context + ": " + e.getMessage(), e);
        } finally {
            Dirs.closeQuietly(dir);
        }
        return root.resolve(String.join("/", names));
    }

    /**
     * Sets all twelve permission bits of the directory {@code relative} below {@code root}. Each component is opened
     * through its parent's handle with {@code O_NOFOLLOW}, and the mode is set on the last one's handle: a symbolic
     * link anywhere on the way, planted before or during the call, fails it rather than being followed.
     *
     * @throws CsiException.InvalidArgument    as for {@link #resolveUnder}
     * @throws CsiException.NotFound           when a component does not exist
     * @throws CsiException.FailedPrecondition when a component is a symbolic link or not a directory
     * @throws CsiException.PermissionDenied   when the driver may not change the mode
     */
    public static void chmodDirectory(Path root, String relative, int mode) {
        List<String> names = components(relative);
        try (DirCalls calls = new DirCalls()) {
            int fd = calls.openTrustedDir(root);
            try {
                for (int i = 0; i < names.size(); i++) {
                    int next = calls.openDir(fd, names.get(i).getBytes(StandardCharsets.UTF_8), prefix(names, i));
                    calls.closeQuietly(fd);
                    fd = next;
                }
                calls.fchmod(fd, mode, relative);
            } finally {
                calls.closeQuietly(fd);
            }
        } catch (ErrnoException e) {
            String what = "chmod " + Integer.toOctalString(mode) + " " + relative + ": " + e.getMessage();
            throw switch (e.errno()) {
                case ErrnoException.ENOENT -> new CsiException.NotFound(what);
                case ErrnoException.ELOOP, ErrnoException.ENOTDIR -> new CsiException.FailedPrecondition(what
                        + " (a component is a symbolic link or not a directory; not followed)");
                case ErrnoException.EPERM, ErrnoException.EACCES -> new CsiException.PermissionDenied(what);
                default -> new CsiException.Internal(what, e);
            };
        }
    }

    /**
     * Creates the missing directories of {@code relative} below {@code root}, one component at a time, refusing to
     * pass through a symbolic link or a non-directory.
     *
     * <p>Directories are created with default permissions (the process umask applies): the caller sets the mode it
     * wants on the last component, with whatever it needs for setgid or sticky bits, which Java's permission API
     * cannot express. Java has no handle-relative mkdir, so each directory is created by path and then opened
     * through its parent's handle: if a component was swapped for a link between the check and the mkdir, an empty
     * directory may appear where the link points, but the call then fails rather than going on below it.
     *
     * @return whether this call created the last component (false when it existed, or another caller created it
     *         at the same moment)
     * @throws CsiException.InvalidArgument    as for {@link #resolveUnder}
     * @throws CsiException.FailedPrecondition when an existing component is a symbolic link or not a directory, or a
     *                                         component was replaced while it was being created
     */
    public static boolean createDirectories(Path root, String relative) {
        List<String> names = components(relative);
        String context = "creating " + relative;
        boolean created = false;
        SecureDirectoryStream<Path> dir = null;
        try {
            dir = Dirs.openRoot(root);
            for (int i = 0; i < names.size(); i++) {
                Path name = root.getFileSystem().getPath(names.get(i));
                String shown = prefix(names, i);
                SecureDirectoryStream<Path> next = Dirs.descend(dir, name, context, shown);
                created = false;
                if (next == null) {
                    try {
                        Files.createDirectory(root.resolve(shown));
                        created = true;
                    } catch (FileAlreadyExistsException e) {
                        // created concurrently, or it is something else now: descend() below tells which
                    }
                    next = Dirs.descend(dir, name, context, shown);
                    if (next == null) {
                        throw new CsiException.FailedPrecondition(context + ": " + shown
                                + " is missing right after it was created; was a parent directory replaced?");
                    }
                }
                dir.close();
                dir = next;
            }
        } catch (IOException e) {
            throw new CsiException.Internal(context + ": " + e.getMessage(), e);
        } finally {
            Dirs.closeQuietly(dir);
        }
        return created;
    }

    /**
     * The names of a plain relative path.
     *
     * @throws CsiException.InvalidArgument unless it is one or more names joined by single slashes, none of them
     *                                      "." or "..", with no NUL
     */
    static List<String> components(String relative) {
        if (relative == null || relative.isEmpty()) {
            throw new CsiException.InvalidArgument("path is empty; expected a path relative to the share");
        }
        String shown = relative.replace("\0", "\\0");
        if (relative.indexOf('\0') >= 0) {
            throw new CsiException.InvalidArgument("path " + shown + " contains a NUL character");
        }
        if (relative.startsWith("/")) {
            throw new CsiException.InvalidArgument("path " + shown + " is absolute; expected a relative path");
        }
        List<String> names = List.of(relative.split("/", -1));
        for (String name : names) {
            if (name.isEmpty()) {
                throw new CsiException.InvalidArgument("path " + shown + " has an empty segment");
            }
            if (name.equals(".") || name.equals("..")) {
                throw new CsiException.InvalidArgument("path " + shown + " has a \"" + name + "\" segment");
            }
        }
        return names;
    }

    /** The first {@code last + 1} names joined, as the caller spelled them, for messages and path-based calls. */
    static String prefix(List<String> names, int last) {
        return String.join("/", names.subList(0, last + 1));
    }
}
