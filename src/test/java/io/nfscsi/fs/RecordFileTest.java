package io.nfscsi.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordFileTest {

    @TempDir
    Path dir;

    static Properties record(String value) {
        Properties p = new Properties();
        p.setProperty("name", value);
        return p;
    }

    /** Every file in {@link #dir} and below, hidden ones included. */
    String[] files() throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).map(p -> dir.relativize(p).toString()).sorted()
                    .toArray(String[]::new);
        }
    }

    @Test
    void write_thenRead_roundTrips_andLeavesNoTemporaryFile() throws Exception {
        Path file = dir.resolve("a/b/rec.properties");

        RecordFile.write(file, record("pvc-1"), "comment");
        RecordFile.write(file, record("pvc-2"), "comment");

        assertThat(RecordFile.read(file)).hasValueSatisfying(p -> assertThat(p.getProperty("name")).isEqualTo("pvc-2"));
        assertThat(files()).containsExactly("a/b/rec.properties");
    }

    @Test
    void read_missingFile_isEmpty() throws Exception {
        assertThat(RecordFile.read(dir.resolve("none.properties"))).isEmpty();
    }

    @Test
    void read_damagedFile_isDamagedException() throws Exception {
        Path file = dir.resolve("bad.properties");
        Files.write(file, new byte[] {'a', '=', (byte) 0xff, (byte) 0xfe});
        Path escape = dir.resolve("escape.properties");
        Files.writeString(escape, "a=\\uZZZZ\n", StandardCharsets.UTF_8);

        assertThatThrownBy(() -> RecordFile.read(file)).isInstanceOf(RecordFile.DamagedException.class);
        assertThatThrownBy(() -> RecordFile.read(escape)).isInstanceOf(RecordFile.DamagedException.class);
    }

    @Test
    void parse_readsWhatWriteWrote_andRefusesWhatReadRefuses() throws Exception {
        Path file = dir.resolve("rec.properties");
        RecordFile.write(file, record("über"), "c");
        assertThat(RecordFile.parse(Files.readAllBytes(file), file)).isEqualTo(RecordFile.read(file).orElseThrow());
        for (byte[] damaged : new byte[][] {{'a', '=', (byte) 0xff, (byte) 0xfe}, "a=\\uZZZZ".getBytes()}) {
            assertThatThrownBy(() -> RecordFile.parse(damaged, file)).isInstanceOf(RecordFile.DamagedException.class);
        }
    }

    @Test
    void claim_firstWins_laterClaimsLeaveTheFirstRecord() throws Exception {
        Path file = dir.resolve("claims/x.properties");

        assertThat(RecordFile.claim(file, record("first"), "c")).isTrue();
        assertThat(RecordFile.claim(file, record("second"), "c")).isFalse();

        assertThat(RecordFile.read(file)).hasValueSatisfying(p -> assertThat(p.getProperty("name")).isEqualTo("first"));
        assertThat(files()).containsExactly("claims/x.properties");
    }

    @Test
    void write_byAnInterruptedThread_doesNotLand_andRemovesItsTemporaryFile() throws Exception {
        Path file = dir.resolve("rec.properties");
        RecordFile.write(file, record("old"), "c");

        Thread.currentThread().interrupt();
        try {
            assertThatThrownBy(() -> RecordFile.write(file, record("new"), "c"))
                    .isInstanceOf(java.io.IOException.class);
        } finally {
            Thread.interrupted();
        }

        assertThat(RecordFile.read(file)).hasValueSatisfying(p -> assertThat(p.getProperty("name")).isEqualTo("old"));
        assertThat(files()).containsExactly("rec.properties");
    }

    @Test
    void isTemporary_recognisesOnlyTheTemporaryNames() {
        assertThat(RecordFile.isTemporary(".rec.properties.4f1c.tmp")).isTrue();
        assertThat(RecordFile.isTemporary("rec.properties")).isFalse();
        assertThat(RecordFile.isTemporary(".indexed")).isFalse();
    }
}
