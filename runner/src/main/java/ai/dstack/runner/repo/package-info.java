/**
 * The job's repository (docs/runner.md §5.5): {@link ai.dstack.runner.repo.RepoDir} decides whether to set it up,
 * {@link ai.dstack.runner.repo.RemoteRepo} clones a remote repo in-process with JGit and applies the uploaded diff,
 * {@link ai.dstack.runner.repo.GitCredentialFiles} leaves git credentials in the job user's home for the job.
 */
package ai.dstack.runner.repo;
