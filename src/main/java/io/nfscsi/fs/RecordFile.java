package io.nfscsi.fs;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.Optional;
import java.util.Properties;
import java.util.UUID;

/**
 * The one way the driver keeps a small record in a file: {@code .properties} text, read whole, and written so that
 * a reader (or a restart after a crash) sees the old record or the new one, never half of one: the bytes go to a
 * hidden temporary file beside it ({@code .<name>.<uuid>.tmp}), are flushed to stable storage, and the temporary
 * file is renamed over the record (or, for a {@link #claim}, hard-linked to its name, which fails when the name
 * exists: atomic on NFS as on a local file system). The directory is flushed after the rename where the file
 * system allows it.
 *
 * <p>A thread that is interrupted (its caller gave up at a deadline, see {@code BoundedIo}) stops before the rename
 * or link and removes its temporary file: a write its caller no longer waits for does not land later.
 */
public final class RecordFile {

    private static final String TEMP_SUFFIX = ".tmp";

    /** A record file that exists but does not parse: hand-edited or damaged. */
    public static final class DamagedException extends IOException {
        DamagedException(Path file, Exception cause) {
            super(file + " does not parse as a record: " + cause, cause);
        }
    }

    private RecordFile() {}

    /**
     * The record in {@code file}; empty when there is no such file.
     *
     * @throws DamagedException when the file is not UTF-8 {@code .properties} text
     */
    public static Optional<Properties> read(Path file) throws IOException {
        Properties p = new Properties();
        try (Reader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            p.load(in);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (CharacterCodingException | IllegalArgumentException e) {
            // IllegalArgumentException: a malformed \\u escape, which only a damaged file holds
            throw new DamagedException(file, e);
        }
        return Optional.of(p);
    }

    /**
     * The record in {@code bytes}, read from {@code file} by other means (the lists read through descriptors).
     *
     * @throws DamagedException when the bytes are not UTF-8 {@code .properties} text
     */
    public static Properties parse(byte[] bytes, Path file) throws DamagedException {
        Properties p = new Properties();
        try {
            p.load(new java.io.StringReader(StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT)
                    .onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString()));
        } catch (CharacterCodingException | IllegalArgumentException e) {
            // IllegalArgumentException: a malformed \\u escape, which only a damaged file holds
            throw new DamagedException(file, e);
        } catch (IOException e) {
            throw new IllegalStateException("a StringReader does not fail", e);
        }
        return p;
    }

    /** Writes (or replaces) the record in {@code file}, atomically; creates missing parent directories. */
    public static void write(Path file, Properties record, String comment) throws IOException {
        writeBytes(file, text(record, comment));
    }

    /** Writes (or replaces) {@code file} with {@code bytes}, atomically; creates missing parent directories. */
    public static void writeBytes(Path file, byte[] bytes) throws IOException {
        Path temp = writeTemporary(file, bytes);
        try {
            checkNotAbandoned(file);
            Files.move(temp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(temp);
        }
        syncDirectory(file.getParent());
    }

    /**
     * Creates the record in {@code file} unless the file exists; of several writers at once, on one host or many,
     * exactly one succeeds.
     *
     * @return true when this call created it, false when {@code file} existed
     */
    public static boolean claim(Path file, Properties record, String comment) throws IOException {
        Path temp = writeTemporary(file, text(record, comment));
        try {
            checkNotAbandoned(file);
            Files.createLink(file, temp);
        } catch (FileAlreadyExistsException e) {
            return false;
        } finally {
            Files.deleteIfExists(temp);
        }
        syncDirectory(file.getParent());
        return true;
    }

    /** Removes the record; false when there was none. */
    public static boolean delete(Path file) throws IOException {
        return Files.deleteIfExists(file);
    }

    /** Whether {@code fileName} is a temporary file of a write that a crash interrupted; safe to remove. */
    public static boolean isTemporary(String fileName) {
        return fileName.startsWith(".") && fileName.endsWith(TEMP_SUFFIX);
    }

    private static byte[] text(Properties record, String comment) {
        StringWriter text = new StringWriter();
        try {
            record.store(text, comment);
        } catch (IOException e) {
            throw new IllegalStateException("a StringWriter does not fail", e);
        }
        return text.toString().getBytes(StandardCharsets.UTF_8);
    }

    private static Path writeTemporary(Path file, byte[] bytes) throws IOException {
        Path dir = file.getParent();
        Files.createDirectories(dir);
        Path temp = dir.resolve("." + file.getFileName() + "." + UUID.randomUUID() + TEMP_SUFFIX);
        try (FileChannel ch = FileChannel.open(temp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                ch.write(buffer);
            }
            ch.force(true);
        } catch (IOException | RuntimeException e) {
            Files.deleteIfExists(temp);
            throw e;
        }
        return temp;
    }

    private static void checkNotAbandoned(Path file) throws InterruptedIOException {
        if (Thread.currentThread().isInterrupted()) {
            throw new InterruptedIOException("not writing " + file + ": its caller gave up (deadline)");
        }
    }

    /** Flushes a rename to stable storage; a file system that cannot open or flush a directory is left as is. */
    private static void syncDirectory(Path dir) {
        try (FileChannel ch = FileChannel.open(dir, StandardOpenOption.READ)) {
            ch.force(true);
        } catch (IOException | UnsupportedOperationException e) {
            // the rename itself is atomic; only its durability across a power cut is left to the file system
        }
    }
}
