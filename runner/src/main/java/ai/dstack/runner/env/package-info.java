/**
 * What the runner hands to the processes it starts: the image's own environment (the launcher's
 * locale undone) and shell-quoted text. Depends on nothing else in the runner.
 */
package ai.dstack.runner.env;
