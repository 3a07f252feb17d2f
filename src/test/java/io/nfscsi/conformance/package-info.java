/**
 * A conformance run in the manner of csi-sanity: one driver process serving Identity, Controller and Node on one
 * socket, one pair of mount and staging directories reused by every scenario, and a catalogue of scenarios written
 * from the CSI spec's error tables and docs/errors.md, each checked to leave no mount and no directory behind.
 */
package io.nfscsi.conformance;
