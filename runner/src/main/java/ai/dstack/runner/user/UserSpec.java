package ai.dstack.runner.user;

import com.fasterxml.jackson.annotation.JsonProperty;

/**
 * {@code job_spec.user} as the server sends it; every component may be null.
 *
 * @param uid numeric user id (uint32); when set, {@code username} is ignored
 * @param gid numeric primary group id (uint32)
 * @param username user name looked up in {@code /etc/passwd} when {@code uid} is null
 * @param groupname group name looked up in {@code /etc/group} when {@code gid} is null
 */
public record UserSpec(
        @JsonProperty("uid") Long uid,
        @JsonProperty("gid") Long gid,
        @JsonProperty("username") String username,
        @JsonProperty("groupname") String groupname) {
}
