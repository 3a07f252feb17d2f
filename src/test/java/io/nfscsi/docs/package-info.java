/**
 * Checks of the prose: README.md and docs/ say nothing a reader cannot resolve (labels, links, the test bed's
 * addresses in examples meant for a cluster), and the README's architecture names the classes where they are.
 */
package io.nfscsi.docs;
