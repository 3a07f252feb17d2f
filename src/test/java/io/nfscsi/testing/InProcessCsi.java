package io.nfscsi.testing;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.nfscsi.server.ErrorTranslator;
import io.nfscsi.server.RequestLog;
import java.io.IOException;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.assertj.core.api.Assertions;

/**
 * A service behind the same interceptors as in production, served in-process: for tests of request handling that
 * need no socket and no mount.
 */
public final class InProcessCsi implements AutoCloseable {

    private final Server server;
    private final ManagedChannel channel;

    public InProcessCsi(BindableService service) throws IOException {
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name)
                .executor(Executors.newVirtualThreadPerTaskExecutor())
                .addService(ServerInterceptors.intercept(service, new ErrorTranslator(), new RequestLog()))
                .build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
    }

    public ManagedChannel channel() {
        return channel;
    }

    @Override
    public void close() {
        channel.shutdownNow();
        server.shutdownNow();
    }

    /** Asserts that {@code call} fails with {@code code}; returns the status for further checks. */
    public static Status assertCode(Status.Code code, Supplier<?> call) {
        try {
            call.get();
        } catch (StatusRuntimeException e) {
            Assertions.assertThat(e.getStatus().getCode()).as(e.getStatus().toString()).isEqualTo(code);
            return e.getStatus();
        }
        throw new AssertionError("expected " + code + " but the call succeeded");
    }
}
