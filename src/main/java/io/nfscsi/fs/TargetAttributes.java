package io.nfscsi.fs;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;

/**
 * Owner, mode and times of the entries a copy creates, set by path with one system call each, through
 * {@code java.lang.foreign}. Over NFS each call is a round trip, and the JDK spends more: it sets an owner's uid and
 * gid with two calls, and opens a file (an NFS OPEN and CLOSE) to set its times. Its permission API also cannot
 * express setuid, setgid and sticky bits.
 *
 * <p>Owner and times never follow a final symbolic link; {@link #chmod} does (as chmod(2) does), so it is only for
 * files and directories the caller created itself. Paths reach the kernel with the bytes the JDK holds for them,
 * also for names that are not valid in the platform encoding.
 */
final class TargetAttributes {

    private static final int AT_FDCWD = -100;
    private static final int AT_SYMLINK_NOFOLLOW = 0x100;
    private static final int ENOENT = 2;

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));
    private static final MethodHandle LCHOWN = downcall("lchown",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT,
                    ValueLayout.JAVA_INT));
    private static final MethodHandle CHMOD = downcall("chmod",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    private static final MethodHandle UTIMENSAT = downcall("utimensat",
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
    /** struct timespec[2] on 64-bit Linux: {tv_sec, tv_nsec} for access, then for modification. */
    private static final long TIMESPECS_SIZE = 4 * 8;

    /** The effective uid and gid, which own what this process creates (where no setgid directory says otherwise). */
    static final int EUID = id("geteuid");
    static final int EGID = id("getegid");

    /** Whether a path's string form holds exactly its bytes, as long as it has no replacement character. */
    private static final boolean UTF8_NAMES =
            Charset.forName(System.getProperty("sun.jnu.encoding", "UTF-8")).equals(StandardCharsets.UTF_8);

    private TargetAttributes() {}

    private static MethodHandle downcall(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(LINKER.defaultLookup().find(name).orElseThrow(
                () -> new IllegalStateException("libc has no " + name)), fd, Linker.Option.captureCallState("errno"));
    }

    private static int id(String call) {
        MethodHandle handle = LINKER.downcallHandle(LINKER.defaultLookup().find(call).orElseThrow(
                () -> new IllegalStateException("libc has no " + call)), FunctionDescriptor.of(ValueLayout.JAVA_INT));
        try {
            return (int) handle.invokeExact();
        } catch (Throwable t) {
            throw new IllegalStateException(call + " downcall failed", t);
        }
    }

    /** lchown(2): sets both ids with one call; a symbolic link gets them itself. */
    static void chown(Path path, int uid, int gid) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) LCHOWN.invokeExact(state, cString(arena, path), uid, gid);
            check(rc, state, "lchown", path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("lchown downcall failed", t);
        }
    }

    /** chmod(2) with all twelve mode bits; follows a final symbolic link, so never call it on one. */
    static void chmod(Path path, int mode) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            int rc = (int) CHMOD.invokeExact(state, cString(arena, path), mode & 07777);
            check(rc, state, "chmod", path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("chmod downcall failed", t);
        }
    }

    /** utimensat(2) with {@code AT_SYMLINK_NOFOLLOW}: a symbolic link gets the times itself. */
    static void setTimes(Path path, FileTime accessed, FileTime modified) throws IOException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment state = arena.allocate(CAPTURE);
            MemorySegment times = arena.allocate(TIMESPECS_SIZE, 8);
            put(times, 0, accessed.toInstant());
            put(times, 16, modified.toInstant());
            int rc = (int) UTIMENSAT.invokeExact(state, AT_FDCWD, cString(arena, path), times, AT_SYMLINK_NOFOLLOW);
            check(rc, state, "utimensat", path);
        } catch (IOException | RuntimeException | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException("utimensat downcall failed", t);
        }
    }

    private static void put(MemorySegment times, long offset, Instant instant) {
        times.set(ValueLayout.JAVA_LONG, offset, instant.getEpochSecond());
        times.set(ValueLayout.JAVA_LONG, offset + 8, instant.getNano());
    }

    private static void check(int rc, MemorySegment state, String call, Path path) throws IOException {
        if (rc == 0) {
            return;
        }
        int errno = (int) ERRNO.get(state, 0L);
        if (errno == ENOENT) {
            throw new NoSuchFileException(path.toString());
        }
        throw new FileSystemException(path.toString(), null, call + " failed: errno " + errno);
    }

    /** The path as the NUL-terminated bytes the JDK itself would hand to the kernel. */
    private static MemorySegment cString(Arena arena, Path path) {
        String text = path.toString();
        if (UTF8_NAMES && text.indexOf('\uFFFD') < 0) {
            return arena.allocateFrom(text);
        }
        byte[] bytes = nativeBytes(path);
        MemorySegment segment = arena.allocate(bytes.length + 1L);
        MemorySegment.copy(bytes, 0, segment, ValueLayout.JAVA_BYTE, 0, bytes.length);
        return segment;
    }

    /**
     * The raw bytes of an absolute path, recovered from its URI, which escapes every byte that is not plain ASCII
     * (the only public API that exposes them; it also stats the path, hence only for names that need it).
     */
    static byte[] nativeBytes(Path path) {
        String raw = path.toAbsolutePath().toUri().getRawPath();
        int end = raw.length();
        if (end > 1 && raw.charAt(end - 1) == '/') {
            end--; // added for a directory; a trailing slash would make the kernel follow a final link
        }
        byte[] out = new byte[end];
        int n = 0;
        for (int i = 0; i < end; i++) {
            char c = raw.charAt(i);
            if (c == '%') {
                out[n++] = (byte) Integer.parseInt(raw, i + 1, i + 3, 16);
                i += 2;
            } else {
                out[n++] = (byte) c;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
