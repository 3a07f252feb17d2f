/** Per-key mutual exclusion for CSI calls: a second call for a busy key is refused at once, never queued. */
package io.nfscsi.concurrent;
