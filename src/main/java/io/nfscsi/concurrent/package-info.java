/**
 * Concurrency utilities: per-key mutual exclusion for CSI calls (a second call for a busy key is refused at once,
 * never queued), the driver's own {@link io.nfscsi.concurrent.Deadline}, {@link io.nfscsi.concurrent.BoundedIo} for
 * blocking file-system calls, and the one {@link io.nfscsi.concurrent.TreeWorkPool} of platform threads, open
 * handles and buffers for all background tree work.
 */
package io.nfscsi.concurrent;
