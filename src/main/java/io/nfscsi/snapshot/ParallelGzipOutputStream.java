package io.nfscsi.snapshot;

import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Gzip on several threads: the data is cut into blocks, each block is compressed on its own (its own
 * {@link Deflater}, no shared dictionary) into a complete gzip member, and the members are written in order. A
 * sequence of members is one valid gzip file (RFC 1952, section 2.2); gzip, GNU tar, zcat, Go's compress/gzip and
 * {@link java.util.zip.GZIPInputStream} read all of them. Independent 1 MiB blocks cost well under 1% of
 * compression ratio against one long stream.
 *
 * <p>Memory is bounded: at most {@code 4 * threads} blocks (of 1 MiB, and as much again compressed) are being
 * compressed or waiting to be written, and the writer (the caller's thread) waits for the oldest one when that many
 * are out. The caller's thread also writes the compressed blocks to the underlying stream. Not thread-safe, like
 * any stream.
 */
final class ParallelGzipOutputStream extends OutputStream {

    static final int DEFAULT_BLOCK_SIZE = 1 << 20;
    /** gzip's own default, so that archives come out the size that {@code tar -czf} makes them. */
    static final int DEFAULT_LEVEL = 6;

    /** ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix). */
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    private static final int TRAILER_SIZE = 8;
    private static final AtomicInteger STREAMS = new AtomicInteger();
    /**
     * Blocks queued or being compressed, per thread: enough that a compressing thread finds work waiting while the
     * writer is held up (writing, or not scheduled on a busy machine), and the others while one is held up.
     */
    private static final int IN_FLIGHT_PER_THREAD = 4;

    private final OutputStream out;
    private final int blockSize;
    private final int maxInFlight;
    private final ExecutorService workers;
    private final BlockingQueue<Deflater> deflaters;
    private final ArrayDeque<Future<Block>> inFlight = new ArrayDeque<>();
    private final ArrayDeque<Block> spare = new ArrayDeque<>();
    private Block current;
    private boolean wroteMember;
    private boolean finished;
    private boolean closed;

    /** Uncompressed input and, once compressed, a complete gzip member. Reused once written. */
    private static final class Block {
        final byte[] data;
        int length;
        byte[] member;
        int memberLength;

        Block(int size) {
            data = new byte[size];
            member = new byte[size + (size >> 10) + 64 + HEADER.length + TRAILER_SIZE];
        }
    }

    /**
     * @param threads   compressing threads, at least 1
     * @param blockSize uncompressed bytes per gzip member
     * @param level     deflate level, 1 (fast) to 9 (small)
     */
    ParallelGzipOutputStream(OutputStream out, int threads, int blockSize, int level) {
        if (threads < 1 || blockSize < 1 || level < 0 || level > 9) {
            throw new IllegalArgumentException("threads " + threads + ", block size " + blockSize + ", level " + level);
        }
        this.out = out;
        this.blockSize = blockSize;
        this.maxInFlight = IN_FLIGHT_PER_THREAD * threads;
        int stream = STREAMS.incrementAndGet();
        AtomicInteger thread = new AtomicInteger();
        this.workers = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "gzip-" + stream + "-" + thread.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        this.deflaters = new ArrayBlockingQueue<>(threads);
        for (int i = 0; i < threads; i++) {
            deflaters.add(new Deflater(level, true));
        }
    }

    @Override
    public void write(int b) throws IOException {
        write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
        ensureOpen();
        while (len > 0) {
            if (current == null) {
                current = spare.isEmpty() ? new Block(blockSize) : spare.pop();
                current.length = 0;
            }
            int n = Math.min(len, blockSize - current.length);
            System.arraycopy(b, off, current.data, current.length, n);
            current.length += n;
            off += n;
            len -= n;
            if (current.length == blockSize) {
                submitCurrent();
            }
        }
    }

    /** Writes the blocks already compressed; a partly filled block stays until it is full, so members stay large. */
    @Override
    public void flush() throws IOException {
        ensureOpen();
        while (!inFlight.isEmpty() && inFlight.peek().isDone()) {
            writeOldest();
        }
        out.flush();
    }

    /** Compresses and writes what is left, without closing the underlying stream. */
    void finish() throws IOException {
        ensureOpen();
        if (finished) {
            return;
        }
        if (current != null && current.length > 0 || !wroteMember && inFlight.isEmpty()) {
            if (current == null) {
                current = new Block(0);
            }
            submitCurrent();
        }
        while (!inFlight.isEmpty()) {
            writeOldest();
        }
        out.flush();
        finished = true;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        try (out) {
            finish();
        } finally {
            closed = true;
            shutdown();
        }
    }

    private void ensureOpen() throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
    }

    private void submitCurrent() throws IOException {
        Block block = current;
        current = null;
        inFlight.add(workers.submit(() -> compress(block)));
        wroteMember = true;
        while (inFlight.size() >= maxInFlight) {
            writeOldest();
        }
    }

    private void writeOldest() throws IOException {
        Block block;
        try {
            block = inFlight.remove().get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while compressing");
        } catch (ExecutionException e) {
            throw new IOException("gzip compression failed: " + e.getCause(), e.getCause());
        }
        out.write(block.member, 0, block.memberLength);
        if (block.data.length == blockSize) {
            spare.push(block);
        }
    }

    /** Runs on a worker: turns {@code block.data} into a gzip member in {@code block.member}. */
    private Block compress(Block block) throws InterruptedException {
        Deflater deflater = deflaters.take();
        try {
            deflater.reset();
            deflater.setInput(block.data, 0, block.length);
            deflater.finish();
            byte[] member = block.member;
            System.arraycopy(HEADER, 0, member, 0, HEADER.length);
            int at = HEADER.length;
            while (!deflater.finished()) {
                if (member.length - at < TRAILER_SIZE + 64) {
                    member = java.util.Arrays.copyOf(member, member.length * 2);
                }
                at += deflater.deflate(member, at, member.length - at - TRAILER_SIZE);
            }
            CRC32 crc = new CRC32();
            crc.update(block.data, 0, block.length);
            putIntLe(member, at, (int) crc.getValue());
            putIntLe(member, at + 4, block.length); // ISIZE: the length modulo 2^32
            block.member = member;
            block.memberLength = at + TRAILER_SIZE;
            return block;
        } finally {
            deflaters.add(deflater);
        }
    }

    private static void putIntLe(byte[] b, int at, int v) {
        b[at] = (byte) v;
        b[at + 1] = (byte) (v >>> 8);
        b[at + 2] = (byte) (v >>> 16);
        b[at + 3] = (byte) (v >>> 24);
    }

    private void shutdown() {
        for (Future<Block> f : inFlight) {
            f.cancel(true);
        }
        inFlight.clear();
        workers.shutdownNow();
        try {
            // A compression still running holds its Deflater; wait for it so that end() frees every one.
            workers.awaitTermination(1, java.util.concurrent.TimeUnit.MINUTES);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        Deflater d;
        while ((d = deflaters.poll()) != null) {
            d.end();
        }
    }
}
