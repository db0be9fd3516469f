/**
 * SSH into the job's container (docs/runner.md §5.4, §5.7, §5.8, §8): the runner's {@link ai.dstack.runner.ssh.Sshd}, the
 * login-shell job env ({@link ai.dstack.runner.ssh.Profile}), inter-node SSH ({@link ai.dstack.runner.ssh.ClusterSsh})
 * and the MPI hostfile ({@link ai.dstack.runner.ssh.MpiHostfile}).
 */
package ai.dstack.runner.ssh;
