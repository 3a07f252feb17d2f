package io.nfscsi.bench;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * CPU time of a process's threads from {@code /proc/PID/task/TID/stat} (user + system, in clock ticks of 10 ms),
 * grouped by thread name with digits dropped ({@code fs-io-3} and {@code fs-io-7} are one {@code fs-io-}). Two
 * snapshots around a load tell, per call, what the driver and the client in the same VM spent and on which threads:
 * on the test bed's one CPU a closed loop of N callers waits N times the CPU that one call costs both processes.
 * Threads that ended between the snapshots are missing from the second: their time is lost, so the figures are a
 * floor.
 */
final class ThreadCpu {

    private ThreadCpu() {}

    /** Ticks per thread-name group of process {@code pid} now. */
    static Map<String, Long> snapshot(long pid) throws IOException {
        Map<String, Long> ticks = new TreeMap<>();
        try (DirectoryStream<Path> tasks = Files.newDirectoryStream(Path.of("/proc", Long.toString(pid), "task"))) {
            for (Path task : tasks) {
                String stat;
                try {
                    stat = Files.readString(task.resolve("stat"));
                } catch (IOException ended) {
                    continue;
                }
                // pid (comm) state ppid ... : comm may hold spaces and parentheses, so split after the last ')'
                int open = stat.indexOf('(');
                int close = stat.lastIndexOf(')');
                String name = stat.substring(open + 1, close).replaceAll("[0-9]+", "#");
                String[] f = stat.substring(close + 2).split(" ");
                long t = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime (fields 14 and 15)
                ticks.merge(name, t, Long::sum);
            }
        }
        return ticks;
    }

    /** Busy ticks of the whole machine (every CPU, all but idle and iowait; guest time is in user already), from {@code /proc/stat}. */
    static long machineBusy() throws IOException {
        String[] f = Files.readAllLines(Path.of("/proc/stat")).getFirst().trim().split(" +");
        long busy = 0;
        for (int i = 1; i <= 8 && i < f.length; i++) { // user nice system idle iowait irq softirq steal
            if (i != 4 && i != 5) {
                busy += Long.parseLong(f[i]);
            }
        }
        return busy;
    }

    /**
     * One line per group that used CPU between {@code before} and {@code after}: milliseconds per call over
     * {@code calls}, largest first, then the total.
     */
    static String perCall(Map<String, Long> before, Map<String, Long> after, int calls) {
        List<Map.Entry<String, Long>> used = new ArrayList<>();
        long total = 0;
        for (Map.Entry<String, Long> e : after.entrySet()) {
            long d = e.getValue() - before.getOrDefault(e.getKey(), 0L);
            if (d > 0) {
                used.add(Map.entry(e.getKey(), d));
                total += d;
            }
        }
        used.sort(Map.Entry.<String, Long>comparingByValue().reversed());
        StringBuilder s = new StringBuilder(String.format("%.2f ms/call:", total * 10.0 / calls));
        for (Map.Entry<String, Long> e : used) {
            s.append(String.format(" %s %.2f;", e.getKey(), e.getValue() * 10.0 / calls));
        }
        return s.toString();
    }
}
