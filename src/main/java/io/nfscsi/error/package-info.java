/**
 * Typed failures. Code below the gRPC layer throws a {@link io.nfscsi.error.CsiException} subclass that fixes the
 * gRPC status code; {@code io.nfscsi.server.ErrorTranslator} is the one place that turns it into a wire status.
 */
package io.nfscsi.error;
