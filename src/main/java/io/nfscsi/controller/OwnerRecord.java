package io.nfscsi.controller;

import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.Properties;

/**
 * Which controller replica owns a background job's object (a volume being filled, a snapshot being archived, an
 * archive being removed), as one file on the share holds it ({@link Owners}). The content is written once, before
 * the file is linked into place, and never changed: the owner's heartbeat is the file's modification time, which
 * the owner refreshes.
 *
 * @param subject    what is owned, e.g. {@code volume pvc-1}
 * @param replica    the owner's {@code --replica-id}
 * @param instance   which process of that replica: a random value per start, so that a restarted replica knows its
 *                   predecessor's records
 * @param token      this ownership's own random value; a job that finds another token in its file has lost it
 * @param generation 1 for a first owner, one more than the stale owner's for a take-over
 * @param taken      when the owner took the object
 */
record OwnerRecord(String subject, String replica, String instance, String token, long generation, Instant taken) {

    OwnerRecord {
        if (generation < 1) {
            throw new IllegalArgumentException("generation must be at least 1, not " + generation);
        }
    }

    /** The file's content. */
    String format() {
        Properties p = new Properties();
        p.setProperty("subject", subject);
        p.setProperty("replica", replica);
        p.setProperty("instance", instance);
        p.setProperty("token", token);
        p.setProperty("generation", Long.toString(generation));
        p.setProperty("taken", taken.toString());
        StringWriter text = new StringWriter();
        try {
            p.store(text, "nfs-csi: the controller replica running this job; its heartbeat is this file's mtime");
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return text.toString();
    }

    /**
     * Reads {@link #format}'s output.
     *
     * @throws IllegalArgumentException when a field is missing or malformed
     */
    static OwnerRecord parse(String text) {
        Properties p = new Properties();
        try {
            p.load(new StringReader(text));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        try {
            return new OwnerRecord(required(p, "subject"), required(p, "replica"), required(p, "instance"),
                    required(p, "token"), Long.parseLong(required(p, "generation")),
                    Instant.parse(required(p, "taken")));
        } catch (java.time.format.DateTimeParseException e) {
            throw new IllegalArgumentException("malformed taken: " + e.getMessage(), e);
        }
    }

    private static String required(Properties p, String key) {
        String v = p.getProperty(key);
        if (v == null || v.isEmpty()) {
            throw new IllegalArgumentException("missing " + key);
        }
        return v;
    }
}
