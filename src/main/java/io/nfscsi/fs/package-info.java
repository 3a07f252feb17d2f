/**
 * Touching a volume's files on a share without trusting them: paths are checked component by component below a
 * known root, and trees are deleted in parallel through open directory handles
 * ({@link java.nio.file.SecureDirectoryStream}), so that a symbolic link planted by a pod is seen, and removed as a
 * link, but never followed out of the tree.
 */
package io.nfscsi.fs;
