package ai.dstack.runner.repo;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code repo_credentials} of the submit body.
 *
 * @param cloneUrl URL to clone ({@code https://…}, {@code ssh://user@host[:port]/path}; tests also use
 *                 {@code git://} and {@code file://})
 * @param privateKey OpenSSH/PEM private key for {@code ssh} URLs, or null
 * @param oauthToken token sent as the basic-auth password for {@code http(s)} URLs, or null (anonymous)
 */
public record RepoCredentials(
        @JsonProperty("clone_url") String cloneUrl,
        @JsonProperty("private_key") String privateKey,
        @JsonProperty("oauth_token") String oauthToken) {

    @Override
    public String toString() {
        return "RepoCredentials[cloneUrl=" + cloneUrl + ", privateKey=" + (privateKey == null ? "none" : "***")
                + ", oauthToken=" + (oauthToken == null ? "none" : "***") + "]";
    }

    /** The scheme before {@code ://}, lower case, or {@code ""} when there is none. */
    String scheme() {
        int i = cloneUrl == null ? -1 : cloneUrl.indexOf("://");
        return i < 0 ? "" : cloneUrl.substring(0, i).toLowerCase(java.util.Locale.ROOT);
    }
}
