package ai.dstack.agent.shell;

import java.util.List;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Words for a POSIX {@code sh} command line, the one quoting helper of the shim: a word made only of
 * characters the shell never interprets stays as it is, anything else is single-quoted, an embedded
 * single quote written as {@code '\''}. The shell then sees every word exactly as given ({@code $},
 * backticks, newlines, non-ASCII and the empty word included).
 */
public final class ShellWords {
    /** No expansion, globbing, splitting or assignment ({@code =} would make a first word an assignment). */
    private static final Pattern PLAIN = Pattern.compile("[A-Za-z0-9_@%+:,./-]+");

    private ShellWords() {
    }

    /** One word, quoted when it needs to be. */
    public static String quote(String word) {
        if (PLAIN.matcher(word).matches()) {
            return word;
        }
        return "'" + word.replace("'", "'\\''") + "'";
    }

    /** The words, each quoted as needed, joined by spaces: a command line that runs exactly these words. */
    public static String join(List<String> words) {
        return words.stream().map(ShellWords::quote).collect(Collectors.joining(" "));
    }
}
