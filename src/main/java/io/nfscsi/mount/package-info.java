/**
 * The kernel side: mounting and unmounting through the system's mount helpers, reading the mount table, and
 * file-system calls (statvfs, chmod) that may block on an unresponsive server and therefore always run under a
 * deadline. Failures are classified here, once, into {@link io.nfscsi.mount.MountException.Kind}s; nothing above
 * this package reads a command's message text.
 */
package io.nfscsi.mount;
