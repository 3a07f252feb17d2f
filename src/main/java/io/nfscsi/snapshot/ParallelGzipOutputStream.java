package io.nfscsi.snapshot;

import io.nfscsi.concurrent.Budget;
import io.nfscsi.concurrent.TreeWorkPool;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.ArrayDeque;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * Gzip on several threads: the data is cut into blocks, each block is compressed on its own (its own
 * {@link Deflater}, no shared dictionary) into a complete gzip member, and the members are written in order. A
 * sequence of members is one valid gzip file (RFC 1952, section 2.2); gzip, GNU tar, zcat, Go's compress/gzip and
 * {@link java.util.zip.GZIPInputStream} read all of them. Independent 1 MiB blocks cost well under 1% of
 * compression ratio against one long stream.
 *
 * <p>The blocks are compressed on the {@link TreeWorkPool}'s compressing threads, shared by every archive, each with
 * a {@link Deflater} of its own (so there are as many deflaters as compressing threads). Memory is bounded twice:
 * at most {@code 4 * threads} blocks of one stream (of 1 MiB, and as much again compressed) are being compressed or
 * waiting to be written, and every block is leased from the pool's buffer budget, shared by every stream. The
 * writer (the caller's thread) waits for its oldest block when it may have no more; a stream that holds no block
 * waits for the budget. While another stream waits, a block written out is given back rather than kept for reuse.
 * The caller's thread also writes the compressed blocks to the underlying stream. Not thread-safe, like any stream.
 */
final class ParallelGzipOutputStream extends OutputStream {

    static final int DEFAULT_BLOCK_SIZE = 1 << 20;
    /** gzip's own default, so that archives come out the size that {@code tar -czf} makes them. */
    static final int DEFAULT_LEVEL = 6;

    /** ID1 ID2 CM=deflate FLG=0 MTIME=0 XFL=0 OS=3 (Unix). */
    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
    private static final int TRAILER_SIZE = 8;
    /** One deflater per compressing thread of the pool, reset for each block. */
    private static final ThreadLocal<Deflater> DEFLATERS = ThreadLocal.withInitial(() -> new Deflater(DEFAULT_LEVEL,
            true));
    /**
     * Blocks queued or being compressed, per thread: enough that a compressing thread finds work waiting while the
     * writer is held up (writing, or not scheduled on a busy machine), and the others while one is held up.
     */
    private static final int IN_FLIGHT_PER_THREAD = 4;

    private final OutputStream out;
    private final int blockSize;
    private final int level;
    private final int maxInFlight;
    private final ExecutorService workers;
    private final Budget budget;
    /** Bytes of the budget that this stream's blocks hold. */
    private long leased;
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
            member = new byte[memberSize(size)];
        }

        long bytes() {
            return (long) data.length + member.length;
        }
    }

    /** Room for a compressed block: deflate's worst case grows its input by well under 0.1%, plus the framing. */
    private static int memberSize(int size) {
        return size + (size >> 10) + 64 + HEADER.length + TRAILER_SIZE;
    }

    /** What one block of {@code blockSize} holds of the buffer budget. */
    static long blockBytes(int blockSize) {
        return (long) blockSize + memberSize(blockSize);
    }

    /**
     * @param pool      its compressing threads compress, its buffer budget holds the blocks
     * @param blockSize uncompressed bytes per gzip member
     * @param level     deflate level, 1 (fast) to 9 (small)
     */
    ParallelGzipOutputStream(OutputStream out, TreeWorkPool pool, int blockSize, int level) {
        if (blockSize < 1 || level < 0 || level > 9 || blockBytes(blockSize) > pool.buffers().capacity()) {
            throw new IllegalArgumentException("block size " + blockSize + ", level " + level + ", buffer budget "
                    + pool.buffers().capacity());
        }
        this.out = out;
        this.blockSize = blockSize;
        this.level = level;
        this.maxInFlight = IN_FLIGHT_PER_THREAD * pool.compressionThreads();
        this.workers = pool.compressors();
        this.budget = pool.buffers();
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
                current = nextBlock();
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

    /** A block to fill: a spare one, a new one if the budget allows, else the oldest in flight once written. */
    private Block nextBlock() throws IOException {
        while (spare.isEmpty()) {
            long cost = blockBytes(blockSize);
            if (budget.tryAcquire(cost)) {
                leased += cost;
                return new Block(blockSize);
            }
            if (!inFlight.isEmpty()) {
                writeOldest(); // frees a block for reuse (or for another stream, which gets it first)
                continue;
            }
            try {
                budget.acquire(cost); // this stream holds nothing: it waits for others to finish or give back
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new InterruptedIOException("interrupted while waiting for the buffer budget");
            }
            leased += cost;
            return new Block(blockSize);
        }
        return spare.pop();
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
        if (block.data.length != blockSize) {
            return; // the empty block of an empty stream: never leased
        }
        if (budget.hasWaiters() && leased > blockBytes(blockSize)) {
            leased -= blockBytes(blockSize);
            budget.release(blockBytes(blockSize)); // another stream waits for the budget: let it have this block
        } else {
            spare.push(block);
        }
    }

    /** Runs on a worker: turns {@code block.data} into a gzip member in {@code block.member}. */
    private Block compress(Block block) {
        Deflater deflater = DEFLATERS.get();
        try {
            deflater.reset();
            deflater.setLevel(level);
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
            deflater.reset();
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
            if (!f.cancel(false)) {
                awaitQuietly(f); // a block being compressed is still in use: its budget is given back after
            }
        }
        inFlight.clear();
        spare.clear();
        current = null;
        budget.release(leased);
        leased = 0;
    }

    private static void awaitQuietly(Future<Block> f) {
        boolean interrupted = false;
        while (true) {
            try {
                f.get();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            } catch (ExecutionException | CancellationException e) {
                break;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
