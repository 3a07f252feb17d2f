package io.nfscsi.server;

import static io.nfscsi.testing.InProcessCsi.assertCode;
import static org.assertj.core.api.Assertions.assertThat;

import static org.assertj.core.api.Assertions.catchThrowableOfType;

import com.google.rpc.RetryInfo;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import io.grpc.stub.StreamObserver;
import io.nfscsi.csi.v1.Csi;
import io.nfscsi.csi.v1.IdentityGrpc;
import io.nfscsi.error.CsiException;
import io.nfscsi.testing.InProcessCsi;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ErrorTranslatorTest {

    /** An Identity service whose Probe throws whatever the test hands it. */
    static final class Throwing extends IdentityGrpc.IdentityImplBase {
        final Supplier<RuntimeException> failure;

        Throwing(Supplier<RuntimeException> failure) {
            this.failure = failure;
        }

        @Override
        public void probe(Csi.ProbeRequest req, StreamObserver<Csi.ProbeResponse> reply) {
            throw failure.get();
        }
    }

    static Stream<Arguments> failures() {
        return Stream.of(
                Arguments.of(new CsiException.InvalidArgument("volume_id is required"), Status.Code.INVALID_ARGUMENT),
                Arguments.of(new CsiException.NotFound("x"), Status.Code.NOT_FOUND),
                Arguments.of(new CsiException.AlreadyExists("x"), Status.Code.ALREADY_EXISTS),
                Arguments.of(new CsiException.Aborted("x"), Status.Code.ABORTED),
                Arguments.of(new CsiException.DeadlineExceeded("x"), Status.Code.DEADLINE_EXCEEDED),
                Arguments.of(new CsiException.PermissionDenied("x"), Status.Code.PERMISSION_DENIED),
                Arguments.of(new CsiException.FailedPrecondition("x"), Status.Code.FAILED_PRECONDITION),
                Arguments.of(new CsiException.OutOfRange("x"), Status.Code.OUT_OF_RANGE),
                Arguments.of(new CsiException.ResourceExhausted("x"), Status.Code.RESOURCE_EXHAUSTED),
                Arguments.of(new CsiException.Unimplemented("x"), Status.Code.UNIMPLEMENTED),
                Arguments.of(new CsiException.Internal("x", new RuntimeException()), Status.Code.INTERNAL),
                Arguments.of(Status.UNAVAILABLE.asRuntimeException(), Status.Code.UNAVAILABLE),
                Arguments.of(new IllegalStateException("a bug"), Status.Code.INTERNAL),
                Arguments.of(new NullPointerException(), Status.Code.INTERNAL));
    }

    @ParameterizedTest
    @MethodSource("failures")
    void thrownException_becomesItsStatus_neverUnknown(RuntimeException thrown, Status.Code code) throws Exception {
        try (var csi = new InProcessCsi(new Throwing(() -> thrown))) {
            Status status = assertCode(code, () -> IdentityGrpc.newBlockingStub(csi.channel())
                    .probe(Csi.ProbeRequest.getDefaultInstance()));
            if (thrown instanceof CsiException) {
                assertThat(status.getDescription()).isEqualTo(thrown.getMessage());
            }
        }
    }

    @Test
    void resourceExhaustedWithRetryHint_carriesRetryInfoInTheStatusDetails() throws Exception {
        var thrown = new CsiException.ResourceExhausted("all 16 mount slots are taken", Duration.ofSeconds(7));
        try (var csi = new InProcessCsi(new Throwing(() -> thrown))) {
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> IdentityGrpc.newBlockingStub(csi.channel()).probe(Csi.ProbeRequest.getDefaultInstance()));

            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.RESOURCE_EXHAUSTED);
            com.google.rpc.Status details = StatusProto.fromThrowable(e);
            assertThat(details).isNotNull();
            assertThat(details.getDetailsList()).hasSize(1);
            RetryInfo retry = details.getDetails(0).unpack(RetryInfo.class);
            assertThat(retry.getRetryDelay().getSeconds()).isEqualTo(7);
        }
    }

    @Test
    void resourceExhaustedWithoutHint_hasNoDetails() throws Exception {
        try (var csi = new InProcessCsi(new Throwing(() -> new CsiException.ResourceExhausted("share is full")))) {
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> IdentityGrpc.newBlockingStub(csi.channel()).probe(Csi.ProbeRequest.getDefaultInstance()));

            com.google.rpc.Status details = StatusProto.fromThrowable(e);
            assertThat(details == null ? java.util.List.of() : details.getDetailsList()).isEmpty();
        }
    }
}
