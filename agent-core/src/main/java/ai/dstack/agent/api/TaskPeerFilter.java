package ai.dstack.agent.api;

import ai.dstack.agent.task.TaskPeers;
import io.helidon.webserver.http.Filter;
import io.helidon.webserver.http.FilterChain;
import io.helidon.webserver.http.RoutingRequest;
import io.helidon.webserver.http.RoutingResponse;
import java.net.InetSocketAddress;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Answers {@code 403} to clients that are processes of task containers (docs/api-isolation.md): a
 * job must not list, stop or remove other tenants' tasks. The verdict is made once per connection.
 */
final class TaskPeerFilter implements Filter {
    private static final int REMEMBERED_CONNECTIONS = 1024;
    private final TaskPeers peers;
    private final Map<String, Boolean> verdicts = new LinkedHashMap<>(64, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Boolean> eldest) {
            return size() > REMEMBERED_CONNECTIONS;
        }
    };

    TaskPeerFilter(TaskPeers peers) {
        this.peers = peers;
    }

    @Override
    public void filter(FilterChain chain, RoutingRequest req, RoutingResponse res) {
        if (refused(req)) {
            Replies.text(res, 403, "forbidden: processes in task containers may not use the shim API");
            return;
        }
        chain.proceed();
    }

    private boolean refused(RoutingRequest req) {
        if (!(req.remotePeer().address() instanceof InetSocketAddress client)
            || !(req.localPeer().address() instanceof InetSocketAddress server) || !peers.anyHostNetworkContainer()) {
            return false;
        }
        String connection = req.socketId() + "/" + client.getPort();
        synchronized (verdicts) {
            Boolean known = verdicts.get(connection);
            if (known != null) {
                return known;
            }
        }
        boolean refused = peers.fromTaskContainer(client, server);
        synchronized (verdicts) {
            verdicts.put(connection, refused);
        }
        return refused;
    }
}
