/**
 * The CSI Controller service. Dynamic provisioning arrives in a later step; until then it reports no
 * capabilities and every other call answers UNIMPLEMENTED, as the spec asks of an unadvertised RPC.
 */
package io.nfscsi.controller;
