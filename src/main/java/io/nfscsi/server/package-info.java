/**
 * The gRPC server: binding a unix socket (or a TCP port for debugging), graceful stop, and the interceptors that
 * every call passes through: {@link io.nfscsi.server.RequestLog} (one line per call, secrets stripped) and
 * {@link io.nfscsi.server.ErrorTranslator} (the one place exceptions become gRPC status).
 */
package io.nfscsi.server;
