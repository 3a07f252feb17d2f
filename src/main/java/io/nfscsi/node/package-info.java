/**
 * The node service: publishes NFS volumes at kubelet's target paths, unpublishes them, and reports their usage and
 * health. {@link io.nfscsi.node.NodeService} reads and checks requests; {@link io.nfscsi.node.Publisher} and
 * {@link io.nfscsi.node.VolumeHealth} do the work through {@code io.nfscsi.mount}, and
 * {@link io.nfscsi.node.PublishedTargets} remembers, across restarts, which volume is published at which target.
 */
package io.nfscsi.node;
