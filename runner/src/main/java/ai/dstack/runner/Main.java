package ai.dstack.runner;

/** Entry point of {@code dstack-runner} (skeleton: {@code --version} only). */
public final class Main {
    private Main() {
    }

    public static void main(String[] args) {
        String version = System.getenv().getOrDefault("DSTACK_REPORTED_VERSION", "0.21.2");
        if (args.length > 0 && ("--version".equals(args[0]) || "-v".equals(args[0]))) {
            System.out.println("dstack-runner version " + version);
            return;
        }
        System.err.println("dstack-runner: not implemented yet");
        System.exit(1);
    }
}
