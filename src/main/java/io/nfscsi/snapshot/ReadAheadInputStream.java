package io.nfscsi.snapshot;

import io.nfscsi.concurrent.TreeWorkPool;
import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Reads its source on a read-ahead thread of the {@link TreeWorkPool}, a few chunks ahead of the reader: during a
 * restore, decompressing the archive then overlaps with writing its files, as {@code gzip -d | tar -x} overlaps them
 * in two processes. Memory is bounded by {@code chunks} chunks, leased from the pool's buffer budget (waiting for
 * it) when the stream is made and given back when it is closed. Not thread-safe, like any stream; {@link #close()}
 * stops the reading and closes the source.
 */
final class ReadAheadInputStream extends InputStream {

    /** A chunk read from the source; {@code length} -1 marks the end, {@code failure} a failed read. */
    private record Chunk(byte[] data, int length, Throwable failure) {}

    private final InputStream source;
    private final TreeWorkPool pool;
    private final long leased;
    private final BlockingQueue<Chunk> filled;
    private final BlockingQueue<byte[]> empty;
    /** Opened when the reading loop has returned, or will never run. */
    private final CountDownLatch stopped = new CountDownLatch(1);
    private Chunk current;
    private int position;
    private boolean ended;
    private volatile boolean closed;
    // guarded by this
    /** The pool thread running the loop, while it runs; the loop never started while {@code started} is false. */
    private Thread reader;
    private boolean started;

    /**
     * @throws InterruptedIOException when interrupted while waiting for the buffer budget
     */
    ReadAheadInputStream(InputStream source, int chunkSize, int chunks, TreeWorkPool pool)
            throws InterruptedIOException {
        this.source = source;
        this.pool = pool;
        this.leased = (long) chunkSize * chunks;
        try {
            pool.buffers().acquire(leased);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while waiting for the buffer budget");
        }
        this.filled = new ArrayBlockingQueue<>(chunks + 1);
        this.empty = new ArrayBlockingQueue<>(chunks);
        for (int i = 0; i < chunks; i++) {
            empty.add(new byte[chunkSize]);
        }
        pool.startReadAhead(this::fill);
    }

    /** Runs on a read-ahead thread until the source ends, fails, or this stream is closed. */
    private void fill() {
        synchronized (this) {
            if (closed) {
                return; // closed before the loop started; close() saw that and cleaned up
            }
            started = true;
            reader = Thread.currentThread();
        }
        try {
            while (!closed) {
                byte[] data = empty.take();
                int length = 0;
                while (length < data.length) {
                    int n = source.read(data, length, data.length - length);
                    if (n < 0) {
                        break;
                    }
                    length += n;
                }
                if (length > 0) {
                    filled.put(new Chunk(data, length, null));
                }
                if (length < data.length) {
                    filled.put(new Chunk(null, -1, null));
                    return;
                }
            }
        } catch (InterruptedException e) {
            // closed: nobody is waiting for more
        } catch (IOException | RuntimeException | Error e) {
            filled.offer(new Chunk(null, -1, e));
        } finally {
            synchronized (this) {
                reader = null; // the pool thread moves on: it must not be interrupted for this stream any more
                Thread.interrupted();
            }
            stopped.countDown();
        }
    }

    @Override
    public int read() throws IOException {
        byte[] one = new byte[1];
        int n = read(one, 0, 1);
        return n < 0 ? -1 : one[0] & 0xff;
    }

    @Override
    public int read(byte[] b, int off, int len) throws IOException {
        if (closed) {
            throw new IOException("stream closed");
        }
        if (len == 0) {
            return 0;
        }
        if (!next()) {
            return -1;
        }
        int n = Math.min(len, current.length() - position);
        System.arraycopy(current.data(), position, b, off, n);
        position += n;
        return n;
    }

    /** Makes {@code current} a chunk with bytes left to read; false at the end. */
    private boolean next() throws IOException {
        if (current != null && position < current.length()) {
            return true;
        }
        if (ended) {
            return false;
        }
        if (current != null) {
            empty.add(current.data());
            current = null;
        }
        Chunk chunk;
        try {
            chunk = filled.take();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted while reading the archive");
        }
        if (chunk.failure() != null) {
            ended = true;
            if (chunk.failure() instanceof IOException io) {
                throw new IOException(io.getMessage(), io);
            }
            throw new IOException("reading the archive failed: " + chunk.failure(), chunk.failure());
        }
        if (chunk.length() < 0) {
            ended = true;
            return false;
        }
        current = chunk;
        position = 0;
        return true;
    }

    @Override
    public void close() throws IOException {
        if (closed) {
            return;
        }
        boolean neverStarted;
        synchronized (this) {
            closed = true;
            neverStarted = !started;
            if (reader != null) {
                reader.interrupt();
            }
        }
        if (neverStarted) {
            stopped.countDown();
        }
        try {
            // A read blocked on a hung NFS server does not end on interrupt: the pool thread, and the source it is
            // still reading, are then left behind rather than closed under it.
            stopped.await(10, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (stopped.getCount() == 0) {
            pool.buffers().release(leased);
            source.close();
        }
    }
}
