/**
 * The driver's Prometheus metrics: one {@link io.nfscsi.metrics.DriverMetrics} per process, made by the command line
 * and handed to what records (the RPC interceptor, the mounter, the share pool, the background jobs, the bounded
 * I/O), and {@link io.nfscsi.metrics.MetricsServer}, which serves it in the text format on
 * {@code --metrics-address}. This package imports no other package of the driver: every floor may record.
 */
package io.nfscsi.metrics;
