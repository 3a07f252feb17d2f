package io.nfscsi.concurrent;

import io.nfscsi.error.CsiException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Try-locks by key. The CSI spec lets a plugin answer ABORTED when an operation is already pending for a volume,
 * and the sidecars retry with back-off, so a busy key fails fast instead of stacking threads behind a mount that
 * may hang.
 */
public final class KeyedLocks {

    private final Set<String> held = ConcurrentHashMap.newKeySet();

    /** A held lock; closing it releases the key. */
    public interface Held extends AutoCloseable {
        @Override
        void close();
    }

    /**
     * Takes the lock for {@code key}.
     *
     * @param what names the key in the error, e.g. {@code "volume data-id at /var/lib/kubelet/..."}
     * @throws CsiException.Aborted if another holder has it
     */
    public Held acquire(String key, String what) {
        if (!held.add(key)) {
            throw new CsiException.Aborted("an operation for " + what + " is already in progress");
        }
        return () -> held.remove(key);
    }

    /** Whether {@code key} is held now; for tests and diagnostics. */
    public boolean isHeld(String key) {
        return held.contains(key);
    }
}
