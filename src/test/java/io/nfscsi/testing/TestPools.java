package io.nfscsi.testing;

import io.nfscsi.concurrent.TreeWorkPool;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Tree work pools for unit tests, one per shape, shared by the tests of a run as the driver shares its one pool by
 * every operation. Their threads are daemons and end when idle.
 */
public final class TestPools {

    private static final Map<String, TreeWorkPool> POOLS = new ConcurrentHashMap<>();

    private TestPools() {}

    /** A pool with {@code walkThreads} walkers (file-system calls in flight across its walks). */
    public static TreeWorkPool walkers(int walkThreads) {
        return of(walkThreads, 2);
    }

    /** A pool with {@code compressionThreads} compressing threads. */
    public static TreeWorkPool compressing(int compressionThreads) {
        return of(4, compressionThreads);
    }

    /** The pool for tests that do not care about its shape. */
    public static TreeWorkPool shared() {
        return of(4, 2);
    }

    private static TreeWorkPool of(int walkThreads, int compressionThreads) {
        TreeWorkPool.Limits limits = TreeWorkPool.Limits.of(walkThreads, compressionThreads); // validates first
        return POOLS.computeIfAbsent(walkThreads + "/" + compressionThreads, k -> new TreeWorkPool(limits));
    }
}
