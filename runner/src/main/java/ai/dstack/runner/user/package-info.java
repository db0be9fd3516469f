/**
 * The job's Unix identity (docs/runner.md §5.2): {@link ai.dstack.runner.user.JobUsers#resolve} reads the image's passwd and
 * group files (no NSS); {@link ai.dstack.runner.user.Ownership} hands files to that user without following symlinks.
 */
package ai.dstack.runner.user;
