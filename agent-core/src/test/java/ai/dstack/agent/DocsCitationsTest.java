package ai.dstack.agent;

import static org.assertj.core.api.Assertions.assertThat;

import ai.dstack.agent.testing.RepoPaths;
import java.io.IOException;
import java.nio.charset.MalformedInputException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every section citation in the repository's sources points at a heading that exists in a file of
 * {@code docs/}: code cites {@code docs/shim.md} or {@code docs/runner.md} and a section number, never
 * the old out-of-tree spec and never a number without its file.
 */
class DocsCitationsTest {
    /** The section sign, escaped so that this file does not cite anything itself. */
    private static final String SECTION = "\u00a7";
    private static final String NUM = SECTION + "(\\d+(?:\\.\\d+)*)";
    /** Space between a file name and its first number, also across a comment line break. */
    private static final String SP = "(?:[ \\t]+|[ \\t]*\\n[ \\t]*(?:\\*|//|#)?[ \\t]*)";
    /** A citation: an optional file name, then numbers chained by commas, slashes, dashes or "and". */
    private static final Pattern GROUP = Pattern.compile("(?:\\[?((?:docs/)?[\\w-]+\\.md)" + SP + ")?"
            + NUM + "(?:(?:[ \\t]*[,/\\u2013-][ \\t]*|[ \\t]+and[ \\t]+)" + NUM + ")*");
    private static final Pattern ONE_NUMBER = Pattern.compile(NUM);
    private static final Pattern HEADING = Pattern.compile("(?m)^#{1,6}[ \\t]+(\\d+(?:\\.\\d+)*)\\.?[ \\t]");
    private static final Pattern OLD_SPEC = Pattern.compile(
            "(?i)\\bspec" + SP + "(?:shim|runner)\\b|\\bspec" + SP + SECTION + "|shared" + "/spec");
    private static final Set<String> SOURCE_SUFFIXES = Set.of(".java", ".sh", ".xml", ".md", ".properties", ".yml",
            ".yaml", ".txt", ".py");
    private static final Set<String> SKIPPED_DIRS = Set.of(".git", "target", "node_modules", ".idea");

    private final Path root = RepoPaths.root();
    private final Map<String, Set<String>> headings = new HashMap<>();

    @Test
    void everyCitationNamesADocsFileAndAnExistingSection() throws IOException {
        List<String> problems = new ArrayList<>();
        int checked = 0;
        for (Path file : sources()) {
            String rel = root.relativize(file).toString().replace('\\', '/');
            String text = read(file);
            if (text == null) {
                continue;
            }
            boolean inDocs = rel.startsWith("docs/");
            Matcher old = OLD_SPEC.matcher(text);
            while (old.find()) {
                problems.add(rel + ":" + line(text, old.start()) + ": cites the old spec (\"" + flat(old.group()) + "\")");
            }
            Matcher m = GROUP.matcher(text);
            while (m.find()) {
                String named = m.group(1);
                String doc;
                if (named == null) {
                    if (!inDocs) {
                        problems.add(rel + ":" + line(text, m.start()) + ": \"" + flat(m.group())
                                + "\" names no docs file (write docs/shim.md or docs/runner.md before it)");
                        continue;
                    }
                    doc = rel; // a docs file citing its own sections
                } else if (named.startsWith("docs/")) {
                    doc = named;
                } else if (inDocs) {
                    doc = "docs/" + named; // docs files link each other by bare name
                } else {
                    problems.add(rel + ":" + line(text, m.start()) + ": \"" + flat(m.group())
                            + "\" cites " + named + "; cite docs/<file>.md");
                    continue;
                }
                Set<String> known = headings(doc);
                if (known == null) {
                    problems.add(rel + ":" + line(text, m.start()) + ": cites " + doc + ", which does not exist");
                    continue;
                }
                Matcher n = ONE_NUMBER.matcher(m.group());
                while (n.find()) {
                    if (!inDocs) {
                        checked++;
                    }
                    if (!known.contains(n.group(1))) {
                        problems.add(rel + ":" + line(text, m.start()) + ": " + doc + " has no section " + n.group(1));
                    }
                }
            }
        }
        assertThat(problems).as("citations that a reader cannot follow").isEmpty();
        // Not vacuous: the sources do cite the contract, and it has numbered sections to check against.
        assertThat(checked).as("section numbers cited from sources").isGreaterThan(50);
        assertThat(headings("docs/shim.md")).as("numbered sections of docs/shim.md").hasSizeGreaterThan(60)
                .contains("1.1", "2.10", "4.2", "4.4", "10.12");
        assertThat(headings("docs/runner.md")).as("numbered sections of docs/runner.md").hasSizeGreaterThan(60)
                .contains("1.1", "5.5.2", "6.8", "11.18");
    }

    @Test
    void theCheckerSeesWhatItMustReject() {
        String bare = "(" + SECTION + "4.2)";
        String old = "(spec" + " shim " + SECTION + "4.2)";
        Matcher m = GROUP.matcher(bare);
        assertThat(m.find()).isTrue();
        assertThat(m.group(1)).isNull();
        assertThat(OLD_SPEC.matcher(old).find()).isTrue();
        assertThat(OLD_SPEC.matcher("(spec\n * runner " + SECTION + "5.4)").find()).isTrue();
        Matcher chained = GROUP.matcher("docs/runner.md " + SECTION + "5.4, " + SECTION + "5.5.3 and " + SECTION + "8");
        assertThat(chained.find()).isTrue();
        assertThat(chained.group(1)).isEqualTo("docs/runner.md");
        assertThat(ONE_NUMBER.matcher(chained.group()).results().map(r -> r.group(1)).toList())
                .containsExactly("5.4", "5.5.3", "8");
        assertThat(HEADING.matcher("## 4. The container\n### 4.2 Identity\n#### 5.5.1 Repo dir\n").results()
                .map(r -> r.group(1)).toList()).containsExactly("4", "4.2", "5.5.1");
    }

    /** Section numbers of a docs file, null when it does not exist. */
    private Set<String> headings(String doc) throws IOException {
        if (!headings.containsKey(doc)) {
            Path file = root.resolve(doc);
            Set<String> numbers = null;
            if (Files.isRegularFile(file)) {
                numbers = new TreeSet<>();
                Matcher h = HEADING.matcher(Files.readString(file, StandardCharsets.UTF_8));
                while (h.find()) {
                    numbers.add(h.group(1));
                }
            }
            headings.put(doc, numbers);
        }
        return headings.get(doc);
    }

    /** Text files of the source tree (build outputs and VCS data left out). */
    private List<Path> sources() throws IOException {
        List<Path> files = new ArrayList<>();
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                return SKIPPED_DIRS.contains(dir.getFileName().toString()) ? FileVisitResult.SKIP_SUBTREE
                        : FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                Path rel = root.relativize(file);
                String name = file.getFileName().toString();
                String top = rel.getName(0).toString();
                if (attrs.isRegularFile() && (SOURCE_SUFFIXES.stream().anyMatch(name::endsWith)
                        || (rel.getNameCount() > 1 && (top.equals("bin") || top.equals(".ci"))))) {
                    files.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        files.sort(null);
        return files;
    }

    private static String read(Path file) throws IOException {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (MalformedInputException e) {
            return null; // not text
        }
    }

    private static int line(String text, int offset) {
        int n = 1;
        for (int i = 0; i < offset; i++) {
            if (text.charAt(i) == '\n') {
                n++;
            }
        }
        return n;
    }

    private static String flat(String s) {
        return s.replaceAll("\\s+", " ");
    }
}
