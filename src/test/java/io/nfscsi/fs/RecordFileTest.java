package io.nfscsi.fs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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

    /** A process of the same replica after a restart; any 12 hex digits but this JVM's. */
    static String laterProcess() {
        return RecordFile.process().equals("0123456789ab") ? "ba9876543210" : "0123456789ab";
    }

    /**
     * Stands in for a kill between a write of the temporary file and its rename or link: the temporary file is
     * saved aside at that moment and put back after the call, as the killed process would have left it.
     */
    List<String> writeKilledBeforePlacing(String replica, IoAction write) throws Exception {
        List<Path> temps = new ArrayList<>();
        RecordFile.identifyWriter(replica);
        RecordFile.beforePlacing = t -> {
            try {
                Files.copy(t, dir.resolve("saved-" + temps.size()), StandardCopyOption.COPY_ATTRIBUTES);
                temps.add(t);
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        };
        try {
            write.run();
        } finally {
            RecordFile.beforePlacing = t -> {};
            RecordFile.forgetWriter();
        }
        List<String> names = new ArrayList<>();
        for (int i = 0; i < temps.size(); i++) {
            Files.move(dir.resolve("saved-" + i), temps.get(i));
            names.add(dir.relativize(temps.get(i)).toString());
        }
        return names;
    }

    interface IoAction {
        void run() throws Exception;
    }

    @Test
    void removeAbandoned_writesKilledBeforeTheirRenameOrLink_goWithTheReplicasNextProcess_only() throws Exception {
        Path records = dir.resolve("records");
        List<String> left = writeKilledBeforePlacing("replica-a", () -> {
            RecordFile.write(records.resolve("rec.properties"), record("pvc-1"), "c");
            RecordFile.claim(records.resolve("claim.properties"), record("pvc-1"), "c");
        });
        assertThat(left).hasSize(2).allSatisfy(n -> assertThat(RecordFile.isTemporary(Path.of(n).getFileName()
                .toString())).isTrue());
        assertThat(files()).containsExactlyInAnyOrder(
                java.util.stream.Stream.concat(left.stream(),
                        Stream.of("records/claim.properties", "records/rec.properties")).toArray(String[]::new));
        Instant now = Instant.now();
        Duration hour = Duration.ofHours(1);

        // this process (its writers may be about to rename), another replica (a live writer on another host)
        assertThat(RecordFile.removeAbandoned(records, "replica-a", RecordFile.process(), now, hour)).isEmpty();
        assertThat(RecordFile.removeAbandoned(records, "replica-b", laterProcess(), now, hour)).isEmpty();
        assertThat(files()).hasSize(4);

        // the same replica restarted: the process that wrote them is dead
        assertThat(RecordFile.removeAbandoned(records, "replica-a", laterProcess(), now, hour)).hasSize(2);
        assertThat(files()).containsExactly("records/claim.properties", "records/rec.properties");
        assertThat(RecordFile.read(records.resolve("rec.properties")))
                .hasValueSatisfying(p -> assertThat(p.getProperty("name")).isEqualTo("pvc-1"));
    }

    @Test
    void removeAbandoned_anyWritersTemporaryFile_goesOnceOlderThanTheBound_nothingElseIsTouched() throws Exception {
        Instant now = Instant.parse("2026-12-01T12:00:00Z");
        Duration maxAge = Duration.ofMinutes(10);
        Path old = plant(".00112233445566aa.aabbccddeeff.replica-b.tmp", now.minus(Duration.ofMinutes(11)));
        Path fresh = plant(".00112233445566bb.aabbccddeeff.replica-b.tmp", now.minus(Duration.ofMinutes(9)));
        Path oldNaming = plant(".rec.properties.0b7c6a1e-3c55-4d5e-9a3b-1f0e2d4c5b6a.tmp",
                now.minus(Duration.ofHours(2)));
        Path freshOldNaming = plant(".0b7c6a1e-3c55-4d5e-9a3b-1f0e2d4c5b6a.tmp", now);
        Path record = plant("rec.properties", now.minus(Duration.ofDays(30)));
        Path directory = Files.createDirectory(dir.resolve(".00112233445566cc.aabbccddeeff.replica-b.tmp"));
        Files.setLastModifiedTime(directory, FileTime.from(now.minus(Duration.ofDays(30))));

        assertThat(RecordFile.removeAbandoned(dir, "replica-a", now, maxAge)).containsExactlyInAnyOrder(old,
                oldNaming);

        assertThat(fresh).exists();
        assertThat(freshOldNaming).exists();
        assertThat(record).exists();
        assertThat(directory).isDirectory();
        assertThat(RecordFile.removeAbandoned(dir.resolve("missing"), "replica-a", now, maxAge)).isEmpty();
    }

    @Test
    void temporaryFiles_nameTheirWriter_aLongReplicaIdByADigest() throws Exception {
        String longId = "r" + "x".repeat(251) + "1";
        List<String> left = writeKilledBeforePlacing(longId,
                () -> RecordFile.write(dir.resolve("r".repeat(200) + ".properties"), record("v"), "c"));

        assertThat(left).singleElement().satisfies(n -> {
            assertThat(n).endsWith("." + RecordFile.label(longId) + ".tmp").contains(RecordFile.process());
            assertThat(n.length()).isLessThan(255);
        });
        assertThat(RecordFile.label("replica-a")).isEqualTo("replica-a");
        assertThat(RecordFile.label(longId)).startsWith("sha256=").hasSize(7 + 64);
        assertThat(RecordFile.removeAbandoned(dir, longId, laterProcess(), Instant.now(), Duration.ofHours(1)))
                .hasSize(1);
    }

    Path plant(String name, Instant modified) throws Exception {
        Path p = dir.resolve(name);
        Files.writeString(p, "half=");
        Files.setLastModifiedTime(p, FileTime.from(modified));
        return p;
    }
}
