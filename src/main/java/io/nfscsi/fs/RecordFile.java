package io.nfscsi.fs;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.Reader;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.channels.FileChannel;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Properties;
import java.util.concurrent.ThreadLocalRandom;

/**
 * The one way the driver keeps a small record in a file: {@code .properties} text, read whole, and written so that
 * a reader (or a restart after a crash) sees the old record or the new one, never half of one: the bytes go to a
 * hidden temporary file beside it, are flushed to stable storage, and the temporary file is renamed over the record
 * (or, for a {@link #claim}, hard-linked to its name, which fails when the name exists: atomic on NFS as on a local
 * file system). The directory is flushed after the rename where the file system allows it.
 *
 * <p>A thread that is interrupted (its caller gave up at a deadline, see {@code BoundedIo}) stops before the rename
 * or link and removes its temporary file: a write its caller no longer waits for does not land later.
 *
 * <p>A process killed between writing its temporary file and removing it (SIGKILL, OOM, a node lost) leaves the
 * file behind, and on a share several processes write into one directory, so that a leftover cannot be told from a
 * write in progress by its name alone. A temporary file is therefore named after its writer:
 * {@code .<random>.<process>.<writer>.tmp}, where {@code process} is fresh for every JVM and {@code writer} is the
 * controller replica's {@code --replica-id} ({@link #identifyWriter}). {@link #removeAbandoned} removes only what
 * no live writer will rename or link: the files of another process of the same replica, which is dead, since two
 * processes never run with one replica id at once; and files of any writer older than a bound far beyond the
 * seconds one write takes: a writer stalled that long has been given up on by its caller, and its interrupted
 * thread does not rename or link any more (were it past that check, its rename or link would fail and write
 * nothing, never half a record).
 */
public final class RecordFile {

    private static final String TEMP_SUFFIX = ".tmp";
    /** Longer replica ids are named by a digest, so that a temporary file's name stays far below 255 bytes. */
    private static final int MAX_WRITER_LENGTH = 128;
    /** The writer of a process that has not named one: never a replica id, which has no '='. */
    private static final String ANONYMOUS = "=anonymous";
    /** This JVM, in its temporary files' names. */
    private static final String PROCESS = randomHex(6);
    private static volatile String writer = ANONYMOUS;
    /**
     * Called with the temporary file between its write and its rename or link: where a test stands in for a kill.
     * Nothing else sets it.
     */
    static volatile java.util.function.Consumer<Path> beforePlacing = t -> {};

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
     * Names the temporary files of this process after the controller replica it runs ({@code --replica-id}), so
     * that a later process of the same replica can remove what this one leaves when it is killed. Process-wide:
     * a JVM runs one controller; one that runs several (tests) labels them all alike, which only makes their
     * temporary files last until they are old (see {@link #removeAbandoned}).
     */
    public static void identifyWriter(String replicaId) {
        writer = label(replicaId);
    }

    /** Back to a process that has named no writer; for tests. */
    static void forgetWriter() {
        writer = ANONYMOUS;
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
            beforePlacing.accept(temp);
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
        return claimBytes(file, text(record, comment));
    }

    /** {@link #claim} of {@code bytes}. */
    public static boolean claimBytes(Path file, byte[] bytes) throws IOException {
        Path temp = writeTemporary(file, bytes);
        try {
            beforePlacing.accept(temp);
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

    /**
     * Removes the temporary files in {@code dir} that no live writer will rename or link: those of another process
     * of {@code replicaId} (dead: a replica runs one process at a time), whatever their age, and those of any
     * writer, in any naming, whose modification time is more than {@code maxAge} before {@code now}. The time is the
     * file server's: {@code maxAge} must exceed any clock skew between it and this host. Entries that are not
     * regular files are never touched; a missing directory holds nothing.
     *
     * @return the files removed
     */
    public static java.util.List<Path> removeAbandoned(Path dir, String replicaId, Instant now, Duration maxAge)
            throws IOException {
        return removeAbandoned(dir, replicaId, PROCESS, now, maxAge);
    }

    /** {@link #removeAbandoned(Path, String, Instant, Duration)} as the process {@code process} would; for tests. */
    static java.util.List<Path> removeAbandoned(Path dir, String replicaId, String process, Instant now,
                                                Duration maxAge) throws IOException {
        java.util.List<Path> removed = new java.util.ArrayList<>();
        String earlier = label(replicaId);
        try (DirectoryStream<Path> temps = Files.newDirectoryStream(dir, ".*" + TEMP_SUFFIX)) {
            for (Path t : temps) {
                BasicFileAttributes a;
                try {
                    a = Files.readAttributes(t, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (NoSuchFileException e) {
                    continue; // its writer renamed or removed it since the listing
                }
                if (!a.isRegularFile()) {
                    continue;
                }
                String[] parts = parts(t.getFileName().toString());
                boolean deadProcess = parts != null && parts[2].equals(earlier) && !parts[1].equals(process);
                boolean old = Duration.between(a.lastModifiedTime().toInstant(), now).compareTo(maxAge) > 0;
                if ((deadProcess || old) && Files.deleteIfExists(t)) {
                    removed.add(t);
                }
            }
        } catch (NoSuchFileException e) {
            // nothing was ever written there
        }
        return removed;
    }

    /** The name of a temporary file of this process, its writer labelled {@code writerLabel}; for tests. */
    static String temporaryName(String process, String writerLabel) {
        return "." + HexFormat.of().toHexDigits(ThreadLocalRandom.current().nextLong()) + "." + process + "."
                + writerLabel + TEMP_SUFFIX;
    }

    /** This JVM's part of its temporary files' names; for tests. */
    static String process() {
        return PROCESS;
    }

    /** {@code [random, process, writer]} of a temporary file's name; null for another name (or an older naming). */
    private static String[] parts(String fileName) {
        if (!isTemporary(fileName) || fileName.length() <= 1 + TEMP_SUFFIX.length()) {
            return null;
        }
        String[] parts = fileName.substring(1, fileName.length() - TEMP_SUFFIX.length()).split("\\.", 3);
        return parts.length == 3 && parts[0].length() == 16 && parts[1].length() == PROCESS.length()
                && isHex(parts[0]) && isHex(parts[1]) && !parts[2].isEmpty() ? parts : null;
    }

    private static String randomHex(int bytes) {
        byte[] b = new byte[bytes];
        new SecureRandom().nextBytes(b);
        return HexFormat.of().formatHex(b);
    }

    private static boolean isHex(String s) {
        return s.chars().allMatch(c -> (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'));
    }

    /** A replica id as it appears in temporary files' names. */
    static String label(String replicaId) {
        if (replicaId.length() <= MAX_WRITER_LENGTH && !replicaId.contains("/")) {
            return replicaId;
        }
        try {
            return "sha256=" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256")
                    .digest(replicaId.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
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
        Path temp = dir.resolve(temporaryName(PROCESS, writer));
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
