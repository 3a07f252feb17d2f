package io.nfscsi.posix;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

/**
 * The driver's one native linker and its one errno capture: every downcall is made here, and captures errno right
 * after the call returns (a later JVM-internal call could overwrite it). 64-bit Linux with glibc 2.30 or newer.
 */
final class Libc {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE.varHandle(MemoryLayout.PathElement.groupElement("errno"));

    private Libc() {}

    /** A handle on libc's {@code name} whose first parameter is the errno capture segment. */
    @SuppressWarnings("restricted") // linking libc is this class's job; the jar's manifest enables native access
    static MethodHandle downcall(String name, FunctionDescriptor fd, Linker.Option... options) {
        Linker.Option[] all = new Linker.Option[options.length + 1];
        all[0] = Linker.Option.captureCallState("errno");
        System.arraycopy(options, 0, all, 1, options.length);
        return LINKER.downcallHandle(find(name), fd, all);
    }

    /** A handle on a libc call that cannot fail, without errno capture. */
    @SuppressWarnings("restricted") // linking libc is this class's job; the jar's manifest enables native access
    static MethodHandle infallible(String name, FunctionDescriptor fd) {
        return LINKER.downcallHandle(find(name), fd);
    }

    private static MemorySegment find(String name) {
        return LINKER.defaultLookup().find(name).orElseThrow(
                () -> new IllegalStateException("libc has no " + name + "; 64-bit Linux with glibc 2.30+ needed"));
    }

    /** A segment to capture errno into, for calls made with {@code arena} alive. */
    static MemorySegment errnoState(Arena arena) {
        return arena.allocate(CAPTURE);
    }

    /** The errno that the last call made with {@code state} captured. */
    static int errno(MemorySegment state) {
        return (int) ERRNO.get(state, 0L);
    }

    /** A downcall that threw: a linkage problem, never an errno. */
    static RuntimeException downcallFailed(String call, Throwable t) {
        return t instanceof RuntimeException r ? r : new IllegalStateException(call + " downcall failed", t);
    }
}
