package ai.dstack.agent.api;

/** A request that ends with an error status and a plain-text message. */
final class ApiException extends Exception {
    private final int status;

    ApiException(int status, String message) {
        super(message);
        this.status = status;
    }

    int status() {
        return status;
    }

    static ApiException badRequest(String message) {
        return new ApiException(400, message);
    }
}
