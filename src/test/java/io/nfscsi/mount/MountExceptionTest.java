package io.nfscsi.mount;

import static org.assertj.core.api.Assertions.assertThat;

import io.grpc.Context;
import io.grpc.Deadline;
import io.grpc.Status;
import io.nfscsi.error.CsiException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class MountExceptionTest {

    final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        scheduler.shutdownNow();
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(textBlock = """
            ACCESS_DENIED, PERMISSION_DENIED
            UNREACHABLE,   UNAVAILABLE
            NO_SUCH_PATH,  NOT_FOUND
            BAD_OPTION,    INVALID_ARGUMENT
            STALE,         FAILED_PRECONDITION
            READ_ONLY,     FAILED_PRECONDITION
            NO_SPACE,      RESOURCE_EXHAUSTED
            FAILED,        INTERNAL
            """)
    void toCsi_kind_isItsCode(MountException.Kind kind, Status.Code code) {
        assertThat(new MountException(kind, "x").toCsi("mounting").code()).isEqualTo(code);
    }

    @Test
    void toCsi_timedOutOutsideACall_isUnavailable() {
        assertThat(new MountException(MountException.Kind.TIMED_OUT, "x").toCsi("mounting").code())
                .isEqualTo(Status.Code.UNAVAILABLE);
    }

    @Test
    void toCsi_timedOutWhileTheCallerStillHasTime_isUnavailable() throws Exception {
        Context.CancellableContext call = Context.ROOT.withDeadline(Deadline.after(1, TimeUnit.HOURS), scheduler);
        try {
            CsiException e = call.call(() -> new MountException(MountException.Kind.TIMED_OUT, "x").toCsi("mounting"));
            assertThat(e.code()).isEqualTo(Status.Code.UNAVAILABLE);
        } finally {
            call.cancel(null);
        }
    }

    @Test
    void toCsi_timedOutAfterTheCallersDeadline_isDeadlineExceeded() throws Exception {
        Context.CancellableContext call = Context.ROOT.withDeadline(Deadline.after(-1, TimeUnit.SECONDS), scheduler);
        CsiException e = call.call(() -> new MountException(MountException.Kind.TIMED_OUT, "x").toCsi("mounting"));

        assertThat(e.code()).isEqualTo(Status.Code.DEADLINE_EXCEEDED);
    }

    @Test
    void toCsi_busy_isResourceExhaustedWithTheRetryHint() {
        CsiException e = MountException.busy("all slots taken", Duration.ofMillis(2500)).toCsi("mounting");

        assertThat(e).isInstanceOfSatisfying(CsiException.ResourceExhausted.class,
                r -> assertThat(r.retryAfter()).hasValue(Duration.ofMillis(2500)));
        assertThat(e.getMessage()).endsWith("retry after 3s");
    }
}
