package io.nfscsi.snapshot;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import io.nfscsi.testing.TestPools;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

@Timeout(60)
class ParallelGzipOutputStreamTest {

    private static final int BLOCK = 4096;

    @TempDir
    Path dir;

    /** Text-like data that compresses, with random stretches that do not. */
    private static byte[] data(int size, long seed) {
        Random random = new Random(seed);
        byte[] b = new byte[size];
        String text = "the quick brown fox jumps over the lazy dog " + seed + "\n";
        for (int i = 0; i < size; i++) {
            b[i] = (i / 5000) % 3 == 0 ? (byte) random.nextInt() : (byte) text.charAt(i % text.length());
        }
        return b;
    }

    private static byte[] gzip(byte[] data, int threads, int writeSize) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (ParallelGzipOutputStream gz = new ParallelGzipOutputStream(out, TestPools.compressing(threads), BLOCK, 6)) {
            for (int i = 0; i < data.length; i += writeSize) {
                gz.write(data, i, Math.min(writeSize, data.length - i));
            }
        }
        return out.toByteArray();
    }

    private static byte[] gunzip(byte[] gz) throws IOException {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gz))) {
            return in.readAllBytes();
        }
    }

    /** Gzip members in {@code gz}, counted by walking them with an inflater. */
    private static int members(byte[] gz) {
        int count = 0;
        int at = 0;
        while (at < gz.length) {
            java.util.zip.Inflater inflater = new java.util.zip.Inflater(true);
            inflater.setInput(gz, at + 10, gz.length - at - 10);
            try {
                byte[] sink = new byte[BLOCK * 2];
                while (!inflater.finished()) {
                    inflater.inflate(sink);
                }
            } catch (java.util.zip.DataFormatException e) {
                throw new AssertionError(e);
            }
            at = gz.length - inflater.getRemaining() + 8;
            inflater.end();
            count++;
        }
        return count;
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 3 * BLOCK, 100 * BLOCK + 7})
    void write_anySize_decompressesToTheSameBytesInOneMemberPerBlock(int size) throws IOException {
        byte[] data = data(size, size);

        byte[] gz = gzip(data, 3, 1000);

        assertThat(gunzip(gz)).isEqualTo(data);
        assertThat(members(gz)).isEqualTo(Math.max(1, (size + BLOCK - 1) / BLOCK));
    }

    @Test
    void write_byteByByteAndInLargeWrites_giveTheSameOutput() throws IOException {
        byte[] data = data(5 * BLOCK + 3, 7);

        assertThat(gzip(data, 2, 1)).isEqualTo(gzip(data, 4, data.length));
    }

    @Test
    void write_manyBlocksOnManyThreads_keepsTheirOrder() throws IOException {
        byte[] data = data(2000 * BLOCK + 11, 99);

        assertThat(gunzip(gzip(data, 8, 65536))).isEqualTo(data);
    }

    @Test
    void gzipCommand_acceptsAndDecompressesTheOutput() throws Exception {
        byte[] data = data(50 * BLOCK + 5, 3);
        Path file = Files.write(dir.resolve("data.gz"), gzip(data, 2, 8192));

        Trees.run(dir, "gzip", "-t", file.toString());
        Trees.run(dir, "gzip", "-d", file.toString());

        assertThat(Files.readAllBytes(dir.resolve("data"))).isEqualTo(data);
    }

    @Test
    void write_failingUnderlyingStream_failsAndStopsItsThreads() {
        OutputStream failing = new OutputStream() {
            @Override
            public void write(int b) throws IOException {
                throw new IOException("disk full");
            }

            @Override
            public void write(byte[] b, int off, int len) throws IOException {
                throw new IOException("disk full");
            }
        };
        ParallelGzipOutputStream gz = new ParallelGzipOutputStream(failing, TestPools.compressing(2), BLOCK, 6);

        IOException e = catchThrowableOfType(IOException.class, () -> {
            try (gz) {
                gz.write(data(20 * BLOCK, 1));
            }
        });

        assertThat(e).hasMessageContaining("disk full");
        assertThat(Thread.getAllStackTraces().keySet()).noneMatch(t -> t.getName().startsWith("gzip-") && t.isAlive());
    }

    @Test
    void close_twice_isHarmless() throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ParallelGzipOutputStream gz = new ParallelGzipOutputStream(out, TestPools.compressing(1), BLOCK, 6);
        gz.write(1);
        gz.close();
        gz.close();

        assertThat(gunzip(out.toByteArray())).containsExactly(1);
    }
}
