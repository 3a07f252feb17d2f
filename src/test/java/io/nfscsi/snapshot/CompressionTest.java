package io.nfscsi.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.grpc.Status;
import io.nfscsi.error.CsiException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.NullAndEmptySource;

class CompressionTest {

    @ParameterizedTest
    @NullAndEmptySource
    void parse_absent_isGzip(String value) {
        assertThat(Compression.parse("compression", value)).isEqualTo(Compression.GZIP);
    }

    @ParameterizedTest
    @CsvSource({"gzip,GZIP,.tar.gz", "zstd,ZSTD,.tar.zst", "none,NONE,.tar", "GZip,GZIP,.tar.gz"})
    void parse_known_givesItsSuffix(String value, Compression expected, String suffix) {
        assertThat(Compression.parse("compression", value)).isEqualTo(expected);
        assertThat(expected.suffix()).isEqualTo(suffix);
    }

    @Test
    void parse_unknown_isInvalidArgumentNamingTheField() {
        CsiException e = catchThrowableOfType(CsiException.InvalidArgument.class,
                () -> Compression.parse("snapshotCompression", "bzip2"));

        assertThat(e.code()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e).hasMessageContaining("snapshotCompression");
    }
}
