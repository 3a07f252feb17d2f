/** The CSI Identity service: the driver's name and version, its plugin capabilities, and readiness. */
package io.nfscsi.identity;
