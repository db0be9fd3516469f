package ai.dstack.agent.testing.fuzz;

import java.nio.charset.StandardCharsets;

/**
 * One generated request: replayable from its index alone.
 *
 * @param index    position in the run (the seed and the index make the case)
 * @param family   the kind of damage (e.g. {@code truncated-body}); counts are reported per family
 * @param endpoint method and path it aims at
 * @param what     a short description of the damage
 * @param request  the raw bytes sent
 * @param expect   what the contract allows
 * @param creates  the task id an accepted request creates (null if none), for the leftovers check
 */
public record FuzzCase(int index, String family, String endpoint, String what, byte[] request, Expect expect, String creates) {
    /** The request as text, control bytes escaped, cut to {@code max} characters. */
    public String show(int max) {
        String s = new String(request, 0, Math.min(request.length, max * 2), StandardCharsets.ISO_8859_1);
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            if (b.length() >= max) {
                b.append("…(").append(request.length).append(" bytes)");
                break;
            }
            if (c == '\r') {
                b.append("\\r");
            } else if (c == '\n') {
                b.append("\\n");
            } else if (c < 0x20 || c >= 0x7f) {
                b.append(String.format("\\x%02x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.toString();
    }
}
