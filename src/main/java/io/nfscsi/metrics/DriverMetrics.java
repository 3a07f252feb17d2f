package io.nfscsi.metrics;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.instrumentation.jvm.JvmMetrics;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import io.prometheus.metrics.model.registry.PrometheusScrapeRequest;
import io.prometheus.metrics.model.snapshots.MetricSnapshots;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The driver's metrics in one registry of their own (never the client's default registry): made once by the command
 * line and handed to everything that records. Components made without one (tests, tools) get {@link #unexported()},
 * a registry that nothing serves. Names follow Prometheus' conventions: an {@code nfs_csi_} prefix, the unit in the
 * name, {@code _total} on counters (the client adds it).
 */
public final class DriverMetrics {

    /** Latency buckets from a fast call (milliseconds) to a mount or a copy that ran out its deadline (minutes). */
    static final double[] SECONDS = {0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

    static final String EXEMPLARS_PROPERTY = "io.prometheus.metrics.exemplars_enabled";

    private final JvmOnScrape registry = new JvmOnScrape();

    private final Counter rpcHandled;
    private final Histogram rpcDuration;
    private final Counter mountOps;
    private final Histogram mountDuration;
    private final Counter mountsKilled;
    private final Gauge serverLastSuccess;
    private final Gauge serverFailures;
    private final Counter serverFailedFast;
    private final Gauge jobsInFlight;
    private final Counter jobEntries;
    private final Counter jobBytes;
    private final Counter jobsEnded;
    private final Map<String, Supplier<? extends Collection<JobProgress>>> jobSources = new ConcurrentHashMap<>();
    private final Map<String, BoundedIoSource> boundedIo = new ConcurrentHashMap<>();
    private final Map<String, IntSupplier[]> sharePools = new ConcurrentHashMap<>();

    static {
        // No exemplars anywhere in the process, the JVM collectors' counters included (they count every garbage
        // collection and build their metrics with the library's defaults): each sample would wake
        // prometheus-metrics-core's scheduler thread, and the driver has no tracing to take exemplars from. Read once,
        // at the library's first metric; -Dio.prometheus.metrics.exemplars_enabled=true overrides it.
        if (System.getProperty(EXEMPLARS_PROPERTY) == null) {
            System.setProperty(EXEMPLARS_PROPERTY, "false");
        }
    }

    public DriverMetrics() {
        rpcHandled = Counter.builder().withoutExemplars().name("nfs_csi_rpc_handled_total")
                .help("CSI calls completed, by method and gRPC status code")
                .labelNames("method", "code").register(registry);
        rpcDuration = Histogram.builder().name("nfs_csi_rpc_duration_seconds")
                .help("Time from a CSI call's arrival to its reply, by method and gRPC status code")
                .labelNames("method", "code").classicOnly().classicUpperBounds(SECONDS).withoutExemplars()
                .register(registry);
        mountOps = Counter.builder().withoutExemplars().name("nfs_csi_mount_operations_total")
                .help("Mounts and unmounts, by operation (mount, unmount) and result (ok, or the failure's kind)")
                .labelNames("operation", "result").register(registry);
        mountDuration = Histogram.builder().name("nfs_csi_mount_duration_seconds")
                .help("Time a mount or unmount took, by operation and result")
                .labelNames("operation", "result").classicOnly().classicUpperBounds(SECONDS).withoutExemplars()
                .register(registry);
        mountsKilled = Counter.builder().withoutExemplars().name("nfs_csi_mounts_killed_at_deadline_total")
                .help("Mount processes killed because they ran past their deadline").register(registry);
        serverLastSuccess = Gauge.builder().withoutExemplars().name("nfs_csi_nfs_server_last_success_timestamp_seconds")
                .help("When a mount from this NFS server last succeeded, in seconds since the epoch")
                .labelNames("server").register(registry);
        serverFailures = Gauge.builder().withoutExemplars().name("nfs_csi_nfs_server_consecutive_failures")
                .help("Mounts from this NFS server that failed to reach it (unreachable or timed out) since the last"
                        + " success").labelNames("server").register(registry);
        serverFailedFast = Counter.builder().withoutExemplars().name("nfs_csi_nfs_server_calls_failed_fast_total")
                .help("Calls refused at once, without trying, because earlier calls on the server's share are still"
                        + " blocked in the kernel").labelNames("server").register(registry);
        jobsInFlight = Gauge.builder().withoutExemplars().name("nfs_csi_jobs_in_flight")
                .help("Background jobs running now, by kind (snapshot, restore, clone, delete)").labelNames("kind")
                .register(registry);
        jobEntries = Counter.builder().withoutExemplars().name("nfs_csi_job_entries_done_total")
                .help("Files, directories and links that background jobs have written (removed, for a delete), by kind")
                .labelNames("kind").register(registry);
        jobBytes = Counter.builder().withoutExemplars().name("nfs_csi_job_bytes_done_total")
                .help("Bytes of file content that background jobs have written, by kind").labelNames("kind")
                .register(registry);
        jobsEnded = Counter.builder().withoutExemplars().name("nfs_csi_jobs_ended_total")
                .help("Background jobs that ended, by kind and outcome (ok, failed, cancelled; unfinished: a delete that"
                        + " reached its call's deadline, which the retry continues)")
                .labelNames("kind", "outcome").register(registry);
        GaugeWithCallback.builder().name("nfs_csi_job_progress_entries")
                .help("Files, directories and links a running background job has written (removed, for a delete) so far")
                .labelNames("kind", "job")
                .callback(c -> eachJob(j -> c.call(j.entries(), j.kind(), j.name()))).register(registry);
        GaugeWithCallback.builder().name("nfs_csi_job_progress_bytes")
                .help("Bytes of file content a running background job has written so far").labelNames("kind", "job")
                .callback(c -> eachJob(j -> c.call(j.bytes(), j.kind(), j.name()))).register(registry);
        GaugeWithCallback.builder().name("nfs_csi_job_progress_ratio")
                .help("How much of its input a running background job has read, 0 to 1, where the total is known"
                        + " (a restore reads its archive)").labelNames("kind", "job")
                .callback(c -> eachJob(j -> {
                    if (j.ratio() >= 0) {
                        c.call(j.ratio(), j.kind(), j.name());
                    }
                })).register(registry);
        GaugeWithCallback.builder().name("nfs_csi_bounded_io_slots_in_use")
                .help("Slots of a bounded file-system call pool held by calls running or blocked in the kernel")
                .labelNames("pool").callback(c -> boundedIo.forEach((pool, s) -> c.call(s.held().getAsInt(), pool)))
                .register(registry);
        GaugeWithCallback.builder().name("nfs_csi_bounded_io_slots")
                .help("Slots of a bounded file-system call pool").labelNames("pool")
                .callback(c -> boundedIo.forEach((pool, s) -> c.call(s.capacity(), pool))).register(registry);
        GaugeWithCallback.builder().name("nfs_csi_bounded_io_stuck_calls")
                .help("Calls given up at their deadline that are still blocked in the kernel, holding a slot")
                .labelNames("pool").callback(c -> boundedIo.forEach((pool, s) -> c.call(s.stuck().getAsInt(), pool)))
                .register(registry);
        GaugeWithCallback.builder().name("nfs_csi_share_pool_mounted_shares")
                .help("NFS shares the controller holds mounted").labelNames("pool")
                .callback(c -> sharePools.forEach((pool, s) -> c.call(s[0].getAsInt(), pool))).register(registry);
        GaugeWithCallback.builder().name("nfs_csi_share_pool_leases")
                .help("Leases on pooled shares held by calls and background jobs now").labelNames("pool")
                .callback(c -> sharePools.forEach((pool, s) -> c.call(s[1].getAsInt(), pool))).register(registry);
    }

    /** A registry of its own that nothing serves: for components made without the process's metrics. */
    public static DriverMetrics unexported() {
        return new DriverMetrics();
    }

    /**
     * Adds the process and JVM basics: memory, GC, threads, CPU, file descriptors. They are registered at the first
     * scrape, not here: their collectors start the JVM's management beans (JMX, some 350 classes), which took a fifth
     * of the driver's start before the socket served (bench/footprint-notes.md), and a process nobody scrapes never
     * pays for them. Every scrape, the first one too, includes them.
     */
    public DriverMetrics withJvm() {
        registry.jvmWanted = true;
        return this;
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    /** A registry that registers the JVM's collectors, once and if wanted, before its first scrape. */
    private static final class JvmOnScrape extends PrometheusRegistry {

        private volatile boolean jvmWanted;
        private boolean jvmRegistered;

        private void registerJvm() {
            if (jvmWanted) {
                synchronized (this) {
                    if (!jvmRegistered) {
                        JvmMetrics.builder().register(this);
                        jvmRegistered = true;
                    }
                }
            }
        }

        @Override
        public MetricSnapshots scrape() {
            registerJvm();
            return super.scrape();
        }

        @Override
        public MetricSnapshots scrape(PrometheusScrapeRequest request) {
            registerJvm();
            return super.scrape(request);
        }

        @Override
        public MetricSnapshots scrape(Predicate<String> includedNames) {
            registerJvm();
            return super.scrape(includedNames);
        }

        @Override
        public MetricSnapshots scrape(Predicate<String> includedNames, PrometheusScrapeRequest request) {
            registerJvm();
            return super.scrape(includedNames, request);
        }
    }

    /** A CSI call completed with {@code code} after {@code nanos}. */
    public void rpc(String method, String code, long nanos) {
        rpcHandled.labelValues(method, code).inc();
        rpcDuration.labelValues(method, code).observe(nanos / 1e9);
    }

    /** A mount or unmount ended with {@code result} ({@code ok}, or a failure's kind) after {@code nanos}. */
    public void mountOperation(String operation, String result, long nanos) {
        mountOps.labelValues(operation, result).inc();
        mountDuration.labelValues(operation, result).observe(nanos / 1e9);
    }

    /** A mount process was killed at its deadline. */
    public void mountKilled() {
        mountsKilled.inc();
    }

    /** A mount from {@code server} succeeded at {@code epochSeconds}. */
    public void serverSucceeded(String server, double epochSeconds) {
        serverLastSuccess.labelValues(server).set(epochSeconds);
        serverFailures.labelValues(server).set(0);
    }

    /** A mount from {@code server} could not reach it. */
    public void serverFailed(String server) {
        serverFailures.labelValues(server).inc();
    }

    /** A call on {@code server}'s share was refused without trying. */
    public void serverFailedFast(String server) {
        serverFailedFast.labelValues(server).inc();
    }

    /** A background job of {@code kind} started. */
    public void jobStarted(String kind) {
        jobsInFlight.labelValues(kind).inc();
    }

    /** A background job of {@code kind} wrote {@code entries} more entries and {@code bytes} more bytes. */
    public void jobProgressed(String kind, long entries, long bytes) {
        if (entries > 0) {
            jobEntries.labelValues(kind).inc(entries);
        }
        if (bytes > 0) {
            jobBytes.labelValues(kind).inc(bytes);
        }
    }

    /** A background job of {@code kind} ended with {@code outcome} (ok, failed, cancelled, unfinished). */
    public void jobEnded(String kind, String outcome) {
        jobsInFlight.labelValues(kind).dec();
        jobsEnded.labelValues(kind, outcome).inc();
    }

    /**
     * The progress of one running job, as scraped.
     *
     * @param ratio how much of its known total input the job has read, 0 to 1; negative when the total is unknown
     */
    public record JobProgress(String kind, String name, long entries, long bytes, double ratio) {
    }

    /** Reports the progress of the running jobs that {@code source} lists, at every scrape; {@code id} names it. */
    public void jobs(String id, Supplier<? extends Collection<JobProgress>> source) {
        jobSources.put(id, source);
    }

    private void eachJob(Consumer<JobProgress> each) {
        jobSources.values().forEach(s -> s.get().forEach(each));
    }

    /** Reports a bounded file-system call pool named {@code pool} at every scrape. */
    public void boundedIo(String pool, int capacity, IntSupplier held, IntSupplier stuck) {
        boundedIo.put(pool, new BoundedIoSource(capacity, held, stuck));
    }

    /** Reports a share pool named {@code pool} at every scrape. */
    public void sharePool(String pool, IntSupplier mounted, IntSupplier leases) {
        sharePools.put(pool, new IntSupplier[] {mounted, leases});
    }

    private record BoundedIoSource(int capacity, IntSupplier held, IntSupplier stuck) {
    }
}
