package io.nfscsi.mount;

import io.nfscsi.concurrent.Deadline;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs a command from an argument vector (never a shell) under a deadline. When the deadline expires the whole
 * process tree is killed (children first, so that none is re-parented out of reach) and the caller is told: a
 * timed-out command is never left running.
 */
final class ProcessRunner {

    private static final Logger log = LoggerFactory.getLogger(ProcessRunner.class);
    private static final int MAX_OUTPUT = 16 * 1024;

    record Result(int exitCode, String stdout, String stderr) {
        /** stderr, else stdout, trimmed: what a tool said about its failure. */
        String message() {
            String s = stderr.isBlank() ? stdout : stderr;
            return s.strip();
        }
    }

    /** Thrown when the deadline expired; the process tree is dead when it is thrown. */
    static final class TimedOutException extends Exception {
        TimedOutException(String message) {
            super(message);
        }
    }

    private ProcessRunner() {}

    static Result run(List<String> argv, Deadline deadline) throws IOException, TimedOutException {
        if (deadline.isExpired()) {
            throw new TimedOutException(argv.getFirst() + " not started: the deadline had already expired");
        }
        ProcessBuilder pb = new ProcessBuilder(argv);
        pb.environment().put("LC_ALL", "C");
        Process process = pb.start();
        process.getOutputStream().close();
        Collector out = Collector.start(process.getInputStream());
        Collector err = Collector.start(process.getErrorStream());
        try {
            boolean exited = process.waitFor(Math.max(0, deadline.timeRemaining(TimeUnit.NANOSECONDS)),
                    TimeUnit.NANOSECONDS);
            if (!exited) {
                int killed = killTree(process.toHandle());
                // the command name only: the arguments may hold options that came from a secret
                throw new TimedOutException(argv.getFirst() + " did not finish before the deadline; killed "
                        + killed + " process(es)");
            }
            return new Result(process.exitValue(), out.text(), err.text());
        } catch (InterruptedException e) {
            killTree(process.toHandle());
            Thread.currentThread().interrupt();
            throw new TimedOutException(argv.getFirst() + " interrupted; process tree killed");
        }
    }

    /**
     * Kills {@code root} and every descendant, deepest first, repeating while new children appear (a dying parent
     * can still fork), then waits briefly for them to be reaped.
     *
     * @return how many processes were signalled
     */
    static int killTree(ProcessHandle root) {
        int killed = 0;
        for (int round = 0; round < 5; round++) {
            List<ProcessHandle> tree = new ArrayList<>(root.descendants().toList());
            tree.sort(Comparator.comparingInt(ProcessRunner::depthBelowRoot).reversed());
            tree.add(root);
            boolean any = false;
            for (ProcessHandle p : tree) {
                if (p.isAlive() && p.destroyForcibly()) {
                    killed++;
                    any = true;
                }
            }
            if (!any) {
                break;
            }
            for (ProcessHandle p : tree) {
                try {
                    p.onExit().get(2, TimeUnit.SECONDS);
                } catch (Exception e) {
                    log.warn("process {} ({}) did not exit after SIGKILL; it may be blocked in the kernel", p.pid(),
                            p.info().command().orElse("?"));
                }
            }
        }
        return killed;
    }

    private static int depthBelowRoot(ProcessHandle p) {
        int depth = 0;
        for (var parent = p.parent(); parent.isPresent() && depth < 64; parent = parent.get().parent()) {
            depth++;
        }
        return depth;
    }

    /**
     * Drains one stream on a platform thread, keeping at most {@link #MAX_OUTPUT} bytes. Not a virtual thread: a
     * read of a pipe blocks in a native call that pins its carrier, and 16 mounts hanging on a dead server (32 pinned
     * readers) left no carrier to wake the calls waiting for their deadlines, so no mount was ever killed (seen in
     * the test bed with one CPU). The mount slots bound these threads to two per running mount.
     */
    private static final class Collector {
        private final ByteArrayOutputStream buffer = new ByteArrayOutputStream();
        private final Thread thread;

        private Collector(InputStream in) {
            thread = Thread.ofPlatform().daemon().name("proc-output").stackSize(256 * 1024).start(() -> drain(in));
        }

        static Collector start(InputStream in) {
            return new Collector(in);
        }

        private void drain(InputStream in) {
            byte[] chunk = new byte[4096];
            try (in) {
                for (int n; (n = in.read(chunk)) >= 0; ) {
                    synchronized (buffer) {
                        int room = MAX_OUTPUT - buffer.size();
                        if (room > 0) {
                            buffer.write(chunk, 0, Math.min(n, room));
                        }
                    }
                }
            } catch (IOException ignored) {
                // the process was killed or closed its end: what was read so far is kept
            }
        }

        String text() throws InterruptedException {
            thread.join(TimeUnit.SECONDS.toMillis(2));
            synchronized (buffer) {
                return buffer.toString(StandardCharsets.UTF_8);
            }
        }
    }
}
