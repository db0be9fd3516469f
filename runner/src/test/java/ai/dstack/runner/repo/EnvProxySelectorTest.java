package ai.dstack.runner.repo;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetSocketAddress;
import java.net.Proxy;
import java.net.URI;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Go's {@code httpproxy} rules, case by case. */
class EnvProxySelectorTest {
    private static String proxyFor(Map<String, String> env, String url) {
        Proxy p = EnvProxySelector.fromEnv(env).select(URI.create(url)).getFirst();
        if (p.type() == Proxy.Type.DIRECT) {
            return "direct";
        }
        InetSocketAddress a = (InetSocketAddress) p.address();
        return p.type() + " " + a.getHostString() + ":" + a.getPort();
    }

    @Test
    void schemesPickTheirVariableUpperCaseFirst() {
        Map<String, String> env = Map.of("HTTP_PROXY", "http://up:1", "http_proxy", "http://low:2",
                "https_proxy", "secure:3");
        assertThat(proxyFor(env, "http://h.example/x")).isEqualTo("HTTP up:1");
        assertThat(proxyFor(env, "https://h.example/x")).isEqualTo("HTTP secure:3");
        assertThat(proxyFor(Map.of("http_proxy", "low:2"), "http://h.example/")).isEqualTo("HTTP low:2");
        assertThat(proxyFor(Map.of("http_proxy", "low"), "http://h.example/")).isEqualTo("HTTP low:80");
        assertThat(proxyFor(Map.of("https_proxy", "socks5://s:1080"), "https://h.example/")).isEqualTo("SOCKS s:1080");
        assertThat(proxyFor(env, "ssh://h.example/x")).isEqualTo("direct");
        assertThat(proxyFor(Map.of("https_proxy", "x:1"), "http://h.example/")).isEqualTo("direct");
    }

    @Test
    void localhostAndLoopbackAreNeverProxied() {
        Map<String, String> env = Map.of("http_proxy", "p:1");
        assertThat(proxyFor(env, "http://localhost/x")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://127.0.0.5:8080/x")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://[::1]/x")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://10.0.0.1/x")).isEqualTo("HTTP p:1");
    }

    @Test
    void noProxyMatchesNamesSuffixesAddressesCidrsAndPorts() {
        Map<String, String> env = Map.of("http_proxy", "p:1", "NO_PROXY",
                "corp.example, .internal.test,10.1.2.3,192.168.0.0/16,*.wild.test,only.test:8080,[fd00::1]:81,fc00::/7");
        assertThat(proxyFor(env, "http://corp.example/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://git.corp.example/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://notcorp.example/")).isEqualTo("HTTP p:1");
        assertThat(proxyFor(env, "http://a.internal.test/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://internal.test/")).as(".domain: subdomains only").isEqualTo("HTTP p:1");
        assertThat(proxyFor(env, "http://a.wild.test/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://10.1.2.3/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://10.1.2.4/")).isEqualTo("HTTP p:1");
        assertThat(proxyFor(env, "http://192.168.44.1/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://only.test:8080/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://only.test/")).isEqualTo("HTTP p:1");
        assertThat(proxyFor(env, "http://[fd00::1]:81/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://[fd12::7]/")).isEqualTo("direct");
        assertThat(proxyFor(env, "http://CORP.EXAMPLE/")).isEqualTo("direct");
        assertThat(proxyFor(Map.of("http_proxy", "p:1", "no_proxy", "*"), "http://any.test/")).isEqualTo("direct");
        assertThat(proxyFor(Map.of("http_proxy", "p:1", "NO_PROXY", "", "no_proxy", "any.test"), "http://any.test/"))
                .as("an empty upper case value counts as unset").isEqualTo("direct");
    }
}
