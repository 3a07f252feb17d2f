package io.nfscsi.metrics;

import io.prometheus.metrics.exporter.httpserver.HTTPServer;
import java.io.IOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Serves {@link DriverMetrics} in the Prometheus text format at {@code /metrics} (and {@code /-/healthy}). Scrapes run
 * on at most two platform threads with a short queue; past that the HTTP server's own dispatcher thread runs the
 * scrape, so it stops accepting until one ends: a scraper that floods the port slows itself down, and never takes
 * more threads or memory from the CSI calls.
 */
public final class MetricsServer implements AutoCloseable {

    static final int THREADS = 2;
    static final int QUEUE = 8;

    private final HTTPServer server;

    private MetricsServer(HTTPServer server) {
        this.server = server;
    }

    /**
     * Binds {@code address} and starts serving.
     *
     * @throws IOException with a one-line message naming the address when it cannot be bound
     */
    public static MetricsServer start(MetricsAddress address, DriverMetrics metrics) throws IOException {
        AtomicInteger n = new AtomicInteger();
        ThreadPoolExecutor threads = new ThreadPoolExecutor(THREADS, THREADS, 1, TimeUnit.MINUTES,
                new ArrayBlockingQueue<>(QUEUE),
                r -> Thread.ofPlatform().daemon().name("metrics-http-" + n.incrementAndGet()).unstarted(r),
                new ThreadPoolExecutor.CallerRunsPolicy());
        threads.allowCoreThreadTimeOut(true);
        HTTPServer.Builder builder = HTTPServer.builder().port(address.port()).registry(metrics.registry())
                .executorService(threads);
        if (!address.host().isEmpty()) {
            builder.hostname(address.host());
        }
        try {
            return new MetricsServer(builder.buildAndStart());
        } catch (IOException | RuntimeException e) {
            threads.shutdownNow();
            throw new IOException("cannot serve metrics on " + address.format() + ": "
                    + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()), e);
        }
    }

    /** The bound port, for {@code :0}. */
    public int port() {
        return server.getPort();
    }

    /** Stops serving; the executor's threads end with it. */
    @Override
    public void close() {
        server.close();
    }
}
