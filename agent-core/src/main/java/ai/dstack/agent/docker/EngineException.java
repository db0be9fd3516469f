package ai.dstack.agent.docker;

/** An engine call failed; the message is the engine's (or transport's) own text. */
public class EngineException extends Exception {
    public EngineException(String message, Throwable cause) {
        super(message, cause);
    }

    public EngineException(String message) {
        super(message);
    }

    /** The engine did not answer at all (not running, socket gone, connection refused). */
    public static final class Unreachable extends EngineException {
        public Unreachable(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /** The container the call named does not exist (any more). */
    public static final class NoSuchContainer extends EngineException {
        public NoSuchContainer(String message) {
            super(message);
        }
    }
}
