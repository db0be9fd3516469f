package ai.dstack.runner.env;

/** The one way the runner writes a value into POSIX shell text (profiles, sourced lines). */
public final class Shell {
    private Shell() {
    }

    /**
     * {@code value} as one single-quoted POSIX sh word: nothing inside is expanded; a quote
     * becomes {@code '\''}. Null is the empty word.
     */
    public static String quote(String value) {
        return "'" + (value == null ? "" : value).replace("'", "'\\''") + "'";
    }
}
