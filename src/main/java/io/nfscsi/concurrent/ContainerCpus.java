package io.nfscsi.concurrent;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The CPUs this container may use: the JVM's count (container-aware: it honours the cgroup's CPU quota and the
 * affinity mask), and, should a JVM not honour it, the cgroup v2 quota in {@code cpu.max} read directly.
 */
public final class ContainerCpus {

    private static final Path CPU_MAX = Path.of("/sys/fs/cgroup/cpu.max");

    private ContainerCpus() {}

    /** The CPUs this process may use, at least 1. */
    public static int available() {
        String cpuMax;
        try {
            cpuMax = Files.readString(CPU_MAX);
        } catch (IOException | SecurityException e) {
            cpuMax = null; // cgroup v1, or no cgroup file system: the JVM's count is all there is
        }
        return of(Runtime.getRuntime().availableProcessors(), cpuMax);
    }

    /**
     * The smaller of the JVM's count and the quota in {@code cpuMax} ("max 100000" or "QUOTA PERIOD", in
     * microseconds), rounded up; {@code cpuMax} null or unreadable leaves the JVM's count.
     */
    static int of(int jvmCount, String cpuMax) {
        int cpus = Math.max(1, jvmCount);
        if (cpuMax == null) {
            return cpus;
        }
        String[] fields = cpuMax.trim().split("\\s+");
        if (fields.length != 2 || fields[0].equals("max")) {
            return cpus;
        }
        try {
            long quota = Long.parseLong(fields[0]);
            long period = Long.parseLong(fields[1]);
            if (quota <= 0 || period <= 0) {
                return cpus;
            }
            long quotaCpus = (quota + period - 1) / period;
            return (int) Math.max(1, Math.min(cpus, quotaCpus));
        } catch (NumberFormatException e) {
            return cpus;
        }
    }
}
