package ai.dstack.runner.job;

import java.nio.charset.StandardCharsets;

/**
 * File names for ids the server chooses (archive ids, repo ids) under the runner's temp dir. An id
 * of plain ASCII name characters is its own name; any other id (UTF-8, U+FFFD, …) is written as
 * {@code %XX} escapes of its UTF-8 bytes, because the JVM in a container without a UTF-8 locale
 * cannot name files with other characters (docs/api-errors.md).
 */
final class StoredNames {
    private StoredNames() {
    }

    static String of(String id) {
        StringBuilder b = new StringBuilder();
        for (byte x : id.getBytes(StandardCharsets.UTF_8)) {
            int c = x & 0xff;
            if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '-' || c == '_') {
                b.append((char) c);
            } else {
                b.append('%').append(String.format("%02X", c));
            }
        }
        // a file name has at most 255 bytes: long ids are named by their hash
        return b.length() <= 200 ? b.toString() : "%%" + sha256(id);
    }

    private static String sha256(String id) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(id.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
