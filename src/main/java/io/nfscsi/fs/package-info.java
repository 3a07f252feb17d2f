/**
 * Touching a volume's files on a share without trusting them: paths are checked component by component below a
 * known root, and trees are copied and deleted in parallel, on the walkers of the
 * {@link io.nfscsi.concurrent.TreeWorkPool}, through open directory handles
 * ({@link java.nio.file.SecureDirectoryStream}, kept by one {@code HandleCache}), so that a symbolic link planted by a
 * pod is seen, and removed or copied as a link, but never followed out of the tree. {@code UsageWalk} counts a tree's
 * allocated bytes and entries the same way, through {@link io.nfscsi.posix.DirCalls}, on one thread.
 */
package io.nfscsi.fs;
