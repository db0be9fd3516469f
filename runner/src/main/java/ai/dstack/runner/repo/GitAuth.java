package ai.dstack.runner.repo;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.PublicKey;
import java.util.List;
import org.eclipse.jgit.api.TransportCommand;
import org.eclipse.jgit.transport.CredentialsProvider;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.transport.sshd.JGitKeyCache;
import org.eclipse.jgit.transport.sshd.ServerKeyDatabase;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;

/**
 * Transport settings for one clone, chosen by the URL scheme (docs/runner.md §5.5.2): basic auth with the token for
 * {@code http(s)}, the private key as user {@code git} with unchecked host keys for {@code ssh}, nothing for
 * {@code git} and {@code file}. Holds a private temp dir for the key file; close it when done.
 */
final class GitAuth implements AutoCloseable {
    private static final System.Logger LOG = System.getLogger(GitAuth.class.getName());

    private final String url;
    private final CredentialsProvider credentials;
    private final SshdSessionFactory ssh;
    private final Path keyDir;

    private GitAuth(String url, CredentialsProvider credentials, SshdSessionFactory ssh, Path keyDir) {
        this.url = url;
        this.credentials = credentials;
        this.ssh = ssh;
        this.keyDir = keyDir;
    }

    static GitAuth of(RepoCredentials creds) throws RepoSetupException {
        String scheme = creds.scheme();
        return switch (scheme) {
            case "https", "http" -> new GitAuth(creds.cloneUrl(), creds.oauthToken() == null || creds.oauthToken().isEmpty()
                    ? null : new UsernamePasswordCredentialsProvider("anything", creds.oauthToken()), null, null);
            case "ssh" -> ssh(creds);
            case "git", "file" -> new GitAuth(creds.cloneUrl(), null, null, null);
            default -> throw new RepoSetupException("unsupported clone URL scheme: "
                    + (scheme.isEmpty() ? creds.cloneUrl() : scheme));
        };
    }

    private static GitAuth ssh(RepoCredentials creds) throws RepoSetupException {
        if (creds.privateKey() == null || creds.privateKey().isEmpty()) {
            throw new RepoSetupException("private key is required for an ssh clone URL");
        }
        String url;
        try {
            URIish uri = new URIish(creds.cloneUrl());
            url = (uri.getUser() == null ? uri.setUser("git") : uri).toString();
        } catch (URISyntaxException e) {
            throw new RepoSetupException("bad clone URL: " + e.getMessage(), e);
        }
        Path dir;
        Path key;
        try {
            dir = Files.createTempDirectory("dstack-git-ssh",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            key = dir.resolve("id");
            Files.writeString(key, creds.privateKey().endsWith("\n") ? creds.privateKey() : creds.privateKey() + "\n");
            Files.setPosixFilePermissions(key, PosixFilePermissions.fromString("rw-------"));
        } catch (IOException e) {
            throw new RepoSetupException("cannot write the ssh key: " + e.getMessage(), e);
        }
        boolean parsable = creds.privateKey().contains("PRIVATE KEY-----");
        if (!parsable) {
            LOG.log(System.Logger.Level.WARNING, "the repo private key is not a PEM/OpenSSH key; cloning without auth");
        }
        SshdSessionFactory factory = new SshdSessionFactoryBuilder()
                .setHomeDirectory(dir.toFile())
                .setSshDirectory(dir.toFile())
                .setConfigStoreFactory((home, config, user) -> null)
                .setDefaultKnownHostsFiles(d -> List.of())
                .setDefaultIdentities(d -> parsable ? List.of(key) : List.of())
                .setPreferredAuthentications("publickey")
                .setServerKeyDatabase((home, sshDir) -> AcceptAnyHostKey.INSTANCE)
                .build(new JGitKeyCache());
        return new GitAuth(url, null, factory, dir);
    }

    /** The URL to use (an ssh URL without user gets {@code git}). */
    String url() {
        return url;
    }

    /** Applies these settings to a clone, fetch or submodule command. */
    <C extends TransportCommand<C, ?>> C configure(C command) {
        if (credentials != null) {
            command.setCredentialsProvider(credentials);
        }
        if (ssh != null) {
            command.setTransportConfigCallback(t -> {
                if (t instanceof SshTransport s) {
                    s.setSshSessionFactory(ssh);
                }
            });
        }
        return command;
    }

    @Override
    public void close() {
        if (ssh != null) {
            ssh.close();
        }
        if (keyDir != null) {
            try (var files = Files.list(keyDir)) {
                for (Path p : files.toList()) {
                    Files.deleteIfExists(p);
                }
                Files.deleteIfExists(keyDir);
            } catch (IOException e) {
                LOG.log(System.Logger.Level.WARNING, "cannot remove {0}: {1}", keyDir, e.toString());
            }
        }
    }

    /** Host keys are not checked (docs/runner.md §5.5.2): the server gives no known_hosts. */
    private enum AcceptAnyHostKey implements ServerKeyDatabase {
        INSTANCE;

        @Override
        public List<PublicKey> lookup(String connectAddress, InetSocketAddress remoteAddress, Configuration config) {
            return List.of();
        }

        @Override
        public boolean accept(String connectAddress, InetSocketAddress remoteAddress, PublicKey serverKey,
                              Configuration config, CredentialsProvider provider) {
            return true;
        }
    }
}
