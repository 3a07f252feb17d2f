/**
 * Value types that describe a volume: where it lives on the NFS server ({@link io.nfscsi.volume.NfsSource}), what
 * a StorageClass or PersistentVolume says about it ({@link io.nfscsi.volume.VolumeContext}) and how it is mounted
 * ({@link io.nfscsi.volume.MountOptions}). Each validates in its constructor or parser and reports the offending
 * field by its CSI or Kubernetes name.
 */
package io.nfscsi.volume;
