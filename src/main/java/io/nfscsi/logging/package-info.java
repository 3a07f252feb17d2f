/**
 * The driver's SLF4J backend: every line in Kubernetes' klog text format (the default) or in Kubernetes' JSON log
 * format ({@code --logging-format=json}), one record per line on stderr; java.util.logging (grpc-java) bridged into
 * the same output; levels from {@code -v}. {@link io.nfscsi.logging.Logging} is the one place that configures it.
 */
package io.nfscsi.logging;
