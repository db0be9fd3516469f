package ai.dstack.runner.job;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;
import java.util.Map;

/**
 * The body of {@code POST /api/submit}: only the fields the runner reads (docs/runner.md §4);
 * everything else the server sends is ignored. JSON null and missing objects read as null;
 * the accessors named {@code …OrEmpty} give Go's zero values.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Submission(
        @JsonProperty("run") Run run,
        @JsonProperty("job_spec") JobSpec jobSpec,
        @JsonProperty("job_submission") JobSubmission jobSubmission,
        @JsonProperty("cluster_info") ClusterInfo clusterInfo,
        @JsonProperty("secrets") Map<String, String> secrets,
        @JsonProperty("repo_credentials") RepoCredentials repoCredentials,
        @JsonProperty("log_quota_hour") Long logQuotaHour) {

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Run(@JsonProperty("id") String id, @JsonProperty("run_spec") RunSpec runSpec) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RunSpec(@JsonProperty("run_name") String runName, @JsonProperty("repo_id") String repoId,
                          @JsonProperty("repo_data") RepoData repoData) {
    }

    /** Repo kind ({@code remote}, {@code local}, {@code virtual}) and git coordinates. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RepoData(@JsonProperty("repo_type") String repoType,
                           @JsonProperty("repo_branch") String repoBranch,
                           @JsonProperty("repo_hash") String repoHash,
                           @JsonProperty("repo_config_name") String repoConfigName,
                           @JsonProperty("repo_config_email") String repoConfigEmail) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record JobSpec(
            @JsonProperty("job_num") Integer jobNum,
            @JsonProperty("jobs_per_replica") Integer jobsPerReplica,
            @JsonProperty("user") User user,
            @JsonProperty("commands") List<String> commands,
            @JsonProperty("env") Map<String, String> env,
            @JsonProperty("single_branch") Boolean singleBranch,
            @JsonProperty("max_duration") Long maxDuration,
            @JsonProperty("ssh_key") SshKey sshKey,
            @JsonProperty("working_dir") String workingDir,
            @JsonProperty("repo_dir") String repoDir,
            @JsonProperty("repo_data") RepoData repoData,
            @JsonProperty("repo_exists_action") String repoExistsAction,
            @JsonProperty("file_archives") List<FileArchive> fileArchives) {
    }

    /** The requested job identity; every field may be null. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record User(@JsonProperty("uid") Long uid, @JsonProperty("gid") Long gid,
                       @JsonProperty("username") String username, @JsonProperty("groupname") String groupname) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record SshKey(@JsonProperty("private") String privateKey, @JsonProperty("public") String publicKey) {
    }

    /** An uploaded archive ({@code id}) and where its content goes ({@code path}). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record FileArchive(@JsonProperty("id") String id, @JsonProperty("path") String path) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record JobSubmission(@JsonProperty("id") String id) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ClusterInfo(@JsonProperty("job_ips") List<String> jobIps,
                              @JsonProperty("master_job_ip") String masterJobIp,
                              @JsonProperty("gpus_per_job") Integer gpusPerJob,
                              @JsonProperty("gpus_per_node") List<Integer> gpusPerNode) {
    }

    @JsonIgnoreProperties(ignoreUnknown = true)
    public record RepoCredentials(@JsonProperty("clone_url") String cloneUrl,
                                  @JsonProperty("private_key") String privateKey,
                                  @JsonProperty("oauth_token") String oauthToken) {
    }

    public JobSpec jobSpecOrEmpty() {
        return jobSpec != null ? jobSpec
                : new JobSpec(null, null, null, null, null, null, null, null, null, null, null, null, null);
    }

    public ClusterInfo clusterInfoOrEmpty() {
        return clusterInfo != null ? clusterInfo : new ClusterInfo(null, null, null, null);
    }

    public String runId() {
        return run != null && run.id() != null ? run.id() : "";
    }

    public String runName() {
        return run != null && run.runSpec() != null && run.runSpec().runName() != null ? run.runSpec().runName() : "";
    }

    public String repoId() {
        return run != null && run.runSpec() != null && run.runSpec().repoId() != null ? run.runSpec().repoId() : "";
    }

    public String jobId() {
        return jobSubmission != null && jobSubmission.id() != null ? jobSubmission.id() : "";
    }

    /** {@code job_spec.repo_data}, else the run's (pre-0.19.17 jobs), else null. */
    public RepoData repoData() {
        if (jobSpec != null && jobSpec.repoData() != null) {
            return jobSpec.repoData();
        }
        return run != null && run.runSpec() != null ? run.runSpec().repoData() : null;
    }

    static int orZero(Integer value) {
        return value == null ? 0 : value;
    }

    static <T> List<T> orEmpty(List<T> value) {
        return value == null ? List.of() : value;
    }

    static Map<String, String> orEmpty(Map<String, String> value) {
        return value == null ? Map.of() : value;
    }
}
