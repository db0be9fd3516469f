package ai.dstack.agent.testing.fuzz;

import java.util.function.IntFunction;

/**
 * One route of an API as the fuzzer sees it.
 *
 * @param method      its method
 * @param path        a concrete path (ids filled in with ones that do not exist)
 * @param contentType the body's media type, null for routes without a body
 * @param validBody   a valid body for case {@code i} (unique ids per case), null for none
 * @param valid       what a valid request gets (e.g. 200, or 404 for an unknown id)
 * @param readsBody   whether the route reads the body at all (a route that ignores it answers truncated ones)
 * @param mayBeValid  whether a valid request may be sent at all (never: shutdown, stop)
 * @param creates     the id a valid request of case {@code i} creates, or null
 */
public record Endpoint(String method, String path, String contentType, IntFunction<byte[]> validBody, Expect valid,
                       boolean readsBody, boolean mayBeValid, IntFunction<String> creates) {
    public static Endpoint get(String path, Expect valid) {
        return new Endpoint("GET", path, null, null, valid, false, true, i -> null);
    }

    public boolean hasBody() {
        return validBody != null;
    }

    public boolean json() {
        return "application/json".equals(contentType);
    }

    @Override
    public String toString() {
        return method + " " + path;
    }
}
