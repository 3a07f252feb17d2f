package io.nfscsi.fuzz;

import java.util.List;
import java.util.Random;

/** Strings that a careless driver mishandles: traversal, separators, NUL, control characters, long and odd text. */
final class Hostile {

    private Hostile() {}

    static final String LONG_NAME = "n".repeat(4096);
    static final String LONG_UNICODE = "é".repeat(2048);

    /** Pieces that end up in paths, IDs, options and maps. */
    static final List<String> PIECES = List.of(
            "", ".", "..", "...", "/", "//", "./", "../", "/..", "../../..", "\0", "a\0b", "\n", "\r\n", "\t",
            "\u0001", "\u001b[31m", "\u007f", "\u0085", "\u2028", "\u00a0", " ", "  a  ", "#", "##", ":", ",", "=",
            ";", "'", "\"", "\\", "%2e%2e", "%00", "$", "${pvc.metadata.name}", "${pv.metadata.name}", "${", "}",
            "$(touch /tmp/pwned)", "`id`", "|", "&", "*", "?", "~", "-", "--", "-o", "--bind", "é", "日本語",
            "\uD83D\uDE00", "\uD800", "\uDFFF", "\uFFFF", "\u202e", "Ａ", ".nfs-csi", ".snapshot", ".git",
            "/etc/passwd", "../../etc/passwd", "/proc/self/root", "..\\..", "C:\\", "[", "]", "[fd00::1]", "fd00::1",
            "0", "-1", "0x10", "9223372036854775807", "NaN", "true", "null", "pvc-1", "a", "A", LONG_NAME,
            LONG_UNICODE, "a/".repeat(600), "../".repeat(300));

    /** A hostile string: a piece, a few pieces joined, or random code points. */
    static String string(Random r) {
        return switch (r.nextInt(6)) {
            case 0, 1 -> pick(r, PIECES);
            case 2 -> join(r, 2 + r.nextInt(4));
            case 3 -> randomCodePoints(r, r.nextInt(r.nextInt(10) == 0 ? 5000 : 40));
            case 4 -> "pvc-" + pick(r, PIECES) + "-" + r.nextInt(1000);
            default -> pick(r, PIECES) + "/" + pick(r, PIECES);
        };
    }

    /** A few pieces concatenated, some of them plain names. */
    static String join(Random r, int n) {
        StringBuilder b = new StringBuilder();
        for (int i = 0; i < n; i++) {
            b.append(r.nextBoolean() ? pick(r, PIECES) : "x" + r.nextInt(100));
        }
        return b.toString();
    }

    /** Any code points, control characters and unpaired surrogates included. */
    static String randomCodePoints(Random r, int length) {
        StringBuilder b = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            switch (r.nextInt(5)) {
                case 0 -> b.append((char) r.nextInt(0x20));
                case 1 -> b.append((char) (0x20 + r.nextInt(0x60)));
                case 2 -> b.appendCodePoint(r.nextInt(0x110000));
                case 3 -> b.append((char) (0xD800 + r.nextInt(0x800)));
                default -> b.append("./#\0:,="  .charAt(r.nextInt(7)));
            }
        }
        return b.toString();
    }

    static <T> T pick(Random r, List<T> values) {
        return values.get(r.nextInt(values.size()));
    }

    /** Integers at and around the edges. */
    static long edgeLong(Random r) {
        return switch (r.nextInt(8)) {
            case 0 -> 0;
            case 1 -> -1;
            case 2 -> Long.MAX_VALUE;
            case 3 -> Long.MIN_VALUE;
            case 4 -> 1L << r.nextInt(63);
            case 5 -> -(1L << r.nextInt(63));
            case 6 -> Integer.MAX_VALUE;
            default -> r.nextLong();
        };
    }
}
