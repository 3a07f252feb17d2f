package io.nfscsi.controller;

import static org.assertj.core.api.Assertions.assertThat;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.concurrent.TreeWorkPool;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/**
 * Background jobs run on the tree work pool's platform threads: many of them blocked at once in native calls (as
 * an archive blocks in read(2) on a hung NFS server) leave the virtual threads that serve gRPC calls running. On
 * virtual threads each such job would pin a carrier, and as many jobs as cores would stall every call.
 */
@Timeout(120)
@SuppressWarnings("restricted") // pipe(2) and read(2) through the linker: a read that blocks in the kernel
class JobsThreadsTest {

    private static final Linker LINKER = Linker.nativeLinker();
    private static final MethodHandle PIPE = LINKER.downcallHandle(LINKER.defaultLookup().find("pipe").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS));
    private static final MethodHandle READ = LINKER.downcallHandle(LINKER.defaultLookup().find("read").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_INT, ValueLayout.ADDRESS,
                    ValueLayout.JAVA_LONG));
    private static final MethodHandle CLOSE = LINKER.downcallHandle(LINKER.defaultLookup().find("close").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.JAVA_INT));

    private static long read(int fd, MemorySegment buf) throws Exception {
        try {
            return (long) READ.invokeExact(fd, buf, 1L);
        } catch (Exception | Error e) {
            throw e;
        } catch (Throwable t) {
            throw new IllegalStateException(t);
        }
    }

    @Test
    void manyJobsBlockedInNativeCalls_leaveVirtualThreadsRunning() throws Throwable {
        int cores = Runtime.getRuntime().availableProcessors();
        int blocked = 2 * cores + 2; // more than the virtual-thread scheduler has carriers
        TreeWorkPool.Limits limits = new TreeWorkPool.Limits(blocked, 1, 1, 64, TreeWorkPool.Limits.MIN_BUFFER_BYTES);
        try (TreeWorkPool pool = new TreeWorkPool(limits); Arena arena = Arena.ofShared()) {
            MemorySegment fds = arena.allocate(ValueLayout.JAVA_INT, 2);
            assertThat((int) PIPE.invokeExact(fds)).isZero();
            int readEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 0);
            int writeEnd = fds.getAtIndex(ValueLayout.JAVA_INT, 1);
            Jobs jobs = new Jobs(Clock.systemUTC(), pool);
            CountDownLatch entered = new CountDownLatch(blocked);
            List<Boolean> virtual = java.util.Collections.synchronizedList(new ArrayList<>());
            List<Jobs.Job> started = new ArrayList<>();
            for (int i = 0; i < blocked; i++) {
                started.add(jobs.start("volume-" + i, "restoring volume-" + i, job -> {
                    virtual.add(Thread.currentThread().isVirtual());
                    MemorySegment buf = Arena.ofAuto().allocate(1);
                    entered.countDown();
                    assertThat(read(readEnd, buf)).isZero(); // blocks until the write end is closed
                }));
            }
            assertThat(entered.await(60, TimeUnit.SECONDS)).isTrue();
            Thread.sleep(200); // the last job to count down is now inside read(2)

            long start = System.nanoTime();
            CountDownLatch ran = new CountDownLatch(1);
            Thread.ofVirtual().start(ran::countDown);
            boolean answered = ran.await(10, TimeUnit.SECONDS);
            long micros = TimeUnit.NANOSECONDS.toMicros(System.nanoTime() - start);
            System.out.printf("%d jobs blocked in read(2) on %d cores: a virtual-thread task ran after %d us%n",
                    blocked, cores, micros);

            int closed = (int) CLOSE.invokeExact(writeEnd);
            assertThat(closed).isZero();
            for (Jobs.Job job : started) {
                assertThat(jobs.await(job, Deadline.after(60, TimeUnit.SECONDS))).isTrue();
            }
            int closedRead = (int) CLOSE.invokeExact(readEnd);
            assertThat(closedRead).isZero();
            assertThat(answered).isTrue();
            assertThat(virtual).hasSize(blocked).containsOnly(false);
        }
    }
}
