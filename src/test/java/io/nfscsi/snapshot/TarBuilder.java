package io.nfscsi.snapshot;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.apache.commons.compress.archivers.tar.TarConstants;

/** A tar archive built entry by entry with commons-compress, names stored exactly as given (as an attacker would). */
final class TarBuilder {

    private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    private final TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes, "UTF-8");

    TarBuilder() {
        tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
    }

    TarBuilder file(String name, String content) throws IOException {
        return file(name, TarConstants.LF_NORMAL, content);
    }

    TarBuilder file(String name, byte type, String content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        byte[] data = content.getBytes(StandardCharsets.UTF_8);
        e.setSize(data.length);
        tar.putArchiveEntry(e);
        tar.write(data);
        tar.closeArchiveEntry();
        return this;
    }

    TarBuilder dir(String name) throws IOException {
        return entry(name, TarConstants.LF_DIR, null);
    }

    TarBuilder symlink(String name, String target) throws IOException {
        return entry(name, TarConstants.LF_SYMLINK, target);
    }

    TarBuilder hardLink(String name, String target) throws IOException {
        return entry(name, TarConstants.LF_LINK, target);
    }

    TarBuilder entry(String name, byte type, String link) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name, type, true);
        if (link != null) {
            e.setLinkName(link);
        }
        tar.putArchiveEntry(e);
        tar.closeArchiveEntry();
        return this;
    }

    /** A pax global header, as {@code git archive} writes first. */
    TarBuilder globalHeader(String key, String value) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry("pax_global_header", TarConstants.LF_PAX_GLOBAL_EXTENDED_HEADER);
        e.addPaxHeader(key, value);
        tar.putArchiveEntry(e); // commons-compress writes and closes a global header at once
        return this;
    }

    byte[] bytes() throws IOException {
        tar.close();
        return bytes.toByteArray();
    }
}
