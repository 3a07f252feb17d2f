package io.nfscsi.testing;

import io.nfscsi.concurrent.Deadline;
import io.nfscsi.mount.MountException;
import io.nfscsi.mount.MountTable;
import io.nfscsi.mount.Mounter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * A mounter that keeps a mount table in memory, for tests of request handling. It mounts nothing (a "mounted"
 * directory is just the local directory): the tests that claim to mount run in the NFS test bed.
 */
public final class FakeMounter implements Mounter {

    private final List<String> lines = new ArrayList<>();
    private int nextId = 100;
    public final List<List<String>> mountCalls = new ArrayList<>();
    public volatile MountException.Kind failWith;
    public volatile CountDownLatch mountGate;
    public final CountDownLatch mountEntered = new CountDownLatch(1);

    @Override
    public synchronized void mount(String source, Path target, String fsType, List<String> options,
                                   Deadline deadline) throws MountException {
        mountCalls.add(List.of(source, target.toString(), fsType, String.join(",", options)));
        mountEntered.countDown();
        CountDownLatch gate = mountGate;
        if (gate != null) {
            try {
                gate.await(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failWith != null) {
            throw new MountException(failWith, "fake " + failWith);
        }
        String ro = options.contains("ro") ? "ro" : "rw";
        String type = options.stream().anyMatch(o -> o.matches("n?f?s?vers=3")) ? "nfs" : "nfs4";
        lines.add(nextId++ + " 1 0:50 / " + escape(target.toString()) + " " + ro + ",relatime shared:1 - " + type
                + " " + escape(source) + " " + ro + ",vers=4.1");
    }

    /** How many mounts are in the table now. */
    public synchronized int mounted() {
        return lines.size();
    }

    @Override
    public synchronized void unmount(Path target, Deadline deadline) {
        for (int i = lines.size() - 1; i >= 0; i--) {
            if (lines.get(i).split(" ")[4].equals(escape(target.toString()))) {
                lines.remove(i);
                return;
            }
        }
    }

    /** As the kernel writes a path or source into mountinfo: space, tab, newline and backslash as octal escapes. */
    static String escape(String s) {
        return s.replace("\\", "\\134").replace(" ", "\\040").replace("\t", "\\011").replace("\n", "\\012");
    }

    @Override
    public synchronized MountTable table() {
        return MountTable.parse(String.join("\n", lines));
    }
}
