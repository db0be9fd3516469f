package ai.dstack.agent.docker;

/**
 * An image reference split as Docker does: the tag belongs to the last path component only, so
 * {@code 127.0.0.1:5000/img} has no tag (the port is part of the registry) and gets {@code :latest}.
 *
 * @param repository everything before the tag or digest, e.g. {@code 127.0.0.1:5000/team/img}
 * @param tag        the tag, null when absent
 * @param digest     the digest, e.g. {@code sha256:…}, null when absent
 */
public record ImageRef(String repository, String tag, String digest) {
    /** Parses a reference; {@code latest} is added only when there is neither tag nor digest. */
    public static ImageRef parse(String reference) {
        String name = reference;
        String digest = null;
        int at = name.indexOf('@');
        if (at >= 0) {
            digest = name.substring(at + 1);
            name = name.substring(0, at);
        }
        String tag = null;
        int colon = name.lastIndexOf(':');
        if (colon > name.lastIndexOf('/')) {
            tag = name.substring(colon + 1);
            name = name.substring(0, colon);
        }
        if (tag == null && digest == null) {
            tag = "latest";
        }
        return new ImageRef(name, tag, digest);
    }

    /** The full normalised reference, e.g. {@code 127.0.0.1:5000/img:latest}. */
    public String canonical() {
        return repository + (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
    }

    /** What the engine's {@code tag} pull parameter gets: the digest if any, else the tag. */
    public String pullTag() {
        return digest != null ? digest : tag;
    }

    /** Whether the reference floats ({@code :latest} without digest): such images are always pulled again. */
    public boolean floating() {
        return digest == null && "latest".equals(tag);
    }

    @Override
    public String toString() {
        return canonical();
    }
}
