/**
 * Volume snapshots as tar archives: {@link io.nfscsi.snapshot.Archiver} writes a volume's tree as a tar archive
 * (gzip compressed on several threads, zstd, or plain), and {@link io.nfscsi.snapshot.Restorer} extracts one into a
 * new volume, refusing entries that would land outside it. The archives are the ones csi-driver-nfs writes and
 * reads ({@code <share>/<snapshot>/<name>.tar.gz}), so a snapshot taken by either driver restores with the other.
 * Both walk the tree through open directory descriptors ({@link io.nfscsi.posix.DirCalls}) and never follow a
 * symbolic link; both run on, and lease descriptors and buffers from, the {@link io.nfscsi.concurrent.TreeWorkPool}.
 */
package io.nfscsi.snapshot;
