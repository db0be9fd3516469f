package ai.dstack.agent.testing.fuzz;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Tar archives written byte by byte (ustar headers), so that hostile ones can be made: traversal,
 * absolute names, symlinks and hard links pointing out, device files, setuid bits, broken headers.
 */
public final class Tars {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    public static Tars create() {
        return new Tars();
    }

    public Tars file(String name, int mode, String content) {
        return entry(name, mode, '0', "", content.getBytes(StandardCharsets.UTF_8), 0, 0);
    }

    public Tars dir(String name) {
        return entry(name, 0755, '5', "", new byte[0], 0, 0);
    }

    public Tars symlink(String name, String target) {
        return entry(name, 0777, '2', target, new byte[0], 0, 0);
    }

    public Tars hardlink(String name, String target) {
        return entry(name, 0644, '1', target, new byte[0], 0, 0);
    }

    /** A character ('3') or block ('4') device, or a FIFO ('6'). */
    public Tars device(String name, char type, int major, int minor) {
        return entry(name, 0666, type, "", new byte[0], major, minor);
    }

    /** Raw bytes appended as they are (a broken header, garbage). */
    public Tars raw(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    public Tars entry(String name, int mode, char type, String link, byte[] content, int major, int minor) {
        byte[] h = new byte[512];
        byte[] n = name.getBytes(StandardCharsets.UTF_8);
        String prefix = "";
        if (n.length > 100) {
            int cut = name.lastIndexOf('/', 154);
            prefix = cut > 0 ? name.substring(0, cut) : "";
            n = (cut > 0 ? name.substring(cut + 1) : name.substring(0, 100)).getBytes(StandardCharsets.UTF_8);
        }
        put(h, 0, n, 100);
        put(h, 100, octal(mode, 8), 8);
        put(h, 108, octal(0, 8), 8);
        put(h, 116, octal(0, 8), 8);
        put(h, 124, octal(content.length, 12), 12);
        put(h, 136, octal(1_700_000_000L, 12), 12);
        h[156] = (byte) type;
        put(h, 157, link.getBytes(StandardCharsets.UTF_8), 100);
        put(h, 257, "ustar\u000000".getBytes(StandardCharsets.ISO_8859_1), 8);
        put(h, 265, "root".getBytes(StandardCharsets.ISO_8859_1), 32);
        put(h, 297, "root".getBytes(StandardCharsets.ISO_8859_1), 32);
        put(h, 329, octal(major, 8), 8);
        put(h, 337, octal(minor, 8), 8);
        put(h, 345, prefix.getBytes(StandardCharsets.UTF_8), 155);
        java.util.Arrays.fill(h, 148, 156, (byte) ' ');
        long sum = 0;
        for (byte b : h) {
            sum += b & 0xff;
        }
        put(h, 148, String.format("%06o\u0000 ", sum).getBytes(StandardCharsets.ISO_8859_1), 8);
        out.writeBytes(h);
        out.writeBytes(content);
        int pad = (512 - content.length % 512) % 512;
        out.writeBytes(new byte[pad]);
        return this;
    }

    /** The archive with its end (two zero blocks). */
    public byte[] bytes() {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.writeBytes(out.toByteArray());
        all.writeBytes(new byte[1024]);
        return all.toByteArray();
    }

    private static byte[] octal(long v, int width) {
        return (String.format("%0" + (width - 1) + "o", v) + "\u0000").getBytes(StandardCharsets.ISO_8859_1);
    }

    private static void put(byte[] h, int at, byte[] v, int max) {
        System.arraycopy(v, 0, h, at, Math.min(v.length, max));
    }

    /**
     * Archive {@code k} of the hostile set: each tries one way out of its destination, or to leave
     * something dangerous inside it. Every file it would write outside is named {@code fuzz-escape*}.
     */
    public static byte[] hostile(int k) {
        return switch (Math.floorMod(k, 12)) {
            case 0 -> create().file("../fuzz-escape-dotdot", 0644, "x").file("ok.txt", 0644, "ok").bytes();
            case 1 -> create().file("/tmp/fuzz-escape-absolute", 0644, "x").bytes();
            case 2 -> create().symlink("link", "/tmp").file("link/fuzz-escape-through-symlink", 0644, "x").bytes();
            case 3 -> create().symlink("up", "..").file("up/fuzz-escape-through-dotdot-link", 0644, "x").bytes();
            case 4 -> create().hardlink("hard", "/etc/passwd").file("hard", 0644, "fuzz-escape-overwrite").bytes();
            case 5 -> create().symlink("passwd", "/etc/passwd").file("passwd", 0644, "fuzz-escape-overwrite").bytes();
            case 6 -> create().device("fuzz-dev-null", '3', 1, 3).device("fuzz-dev-sda", '4', 8, 0).bytes();
            case 7 -> create().file("fuzz-suid", 04755, "#!/bin/sh\n").file("fuzz-sgid", 02755, "#!/bin/sh\n").bytes();
            case 8 -> create().device("fuzz-fifo", '6', 0, 0).file("a/../../fuzz-escape-nested", 0644, "x").bytes();
            case 9 -> create().file("ok.txt", 0644, "ok").raw(new byte[512 + 100]).bytes();
            case 10 -> create().file("x".repeat(300), 0644, "long name").file("\u00e9t\u00e9.txt", 0644, "utf-8").bytes();
            default -> create().symlink("abs", "/tmp/fuzz-escape-dangling").file("abs", 0644, "through").bytes();
        };
    }
}
