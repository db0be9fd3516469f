package ai.dstack.runner.repo;

import java.io.IOException;
import java.net.Authenticator;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.PasswordAuthentication;
import java.net.Proxy;
import java.net.ProxySelector;
import java.net.SocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The proxy variables the shim passes into every container, with Go's rules
 * ({@code golang.org/x/net/http/httpproxy}, what the Go runner's git clone uses): {@code HTTPS_PROXY}
 * or {@code https_proxy} for https URLs, {@code HTTP_PROXY} or {@code http_proxy} for http, the upper
 * case name first; a value without a scheme is an http proxy, {@code socks5://} a SOCKS one.
 * {@code localhost} and loopback addresses are never proxied; {@code NO_PROXY}/{@code no_proxy} is a
 * comma-separated list of {@code *}, IP addresses, CIDR ranges, host names (which also match their
 * subdomains), {@code .domain} suffixes (subdomains only), each optionally with {@code :port}.
 * JGit's HTTP transport asks {@link ProxySelector#getDefault()} for every connection.
 */
final class EnvProxySelector extends ProxySelector {
    private final Proxy http;
    private final Proxy https;
    private final List<String> noProxy;

    private EnvProxySelector(Proxy http, Proxy https, List<String> noProxy) {
        this.http = http;
        this.https = https;
        this.noProxy = noProxy;
    }

    /** Installs the selector (and proxy credentials given in the URLs) for this JVM. */
    static void install(Map<String, String> env) {
        EnvProxySelector selector = fromEnv(env);
        ProxySelector.setDefault(selector);
        Map<String, PasswordAuthentication> credentials = new java.util.HashMap<>();
        for (String name : List.of("HTTP_PROXY", "HTTPS_PROXY")) {
            URI uri = proxyUri(get(env, name));
            if (uri != null && uri.getRawUserInfo() != null) {
                String[] userPass = uri.getRawUserInfo().split(":", 2);
                credentials.put(uri.getHost() + ":" + port(uri), new PasswordAuthentication(decode(userPass[0]),
                        (userPass.length > 1 ? decode(userPass[1]) : "").toCharArray()));
            }
        }
        if (!credentials.isEmpty()) {
            // the JDK refuses Basic for proxies and CONNECT tunnels unless told otherwise
            System.setProperty("jdk.http.auth.tunneling.disabledSchemes", "");
            System.setProperty("jdk.http.auth.proxying.disabledSchemes", "");
            Authenticator.setDefault(new Authenticator() {
                @Override
                protected PasswordAuthentication getPasswordAuthentication() {
                    return getRequestorType() == RequestorType.PROXY
                            ? credentials.get(getRequestingHost() + ":" + getRequestingPort()) : null;
                }
            });
        }
    }

    static EnvProxySelector fromEnv(Map<String, String> env) {
        List<String> noProxy = new ArrayList<>();
        String list = get(env, "NO_PROXY");
        if (list != null) {
            for (String entry : list.split(",")) {
                String e = entry.trim().toLowerCase(Locale.ROOT);
                if (!e.isEmpty()) {
                    noProxy.add(e);
                }
            }
        }
        return new EnvProxySelector(proxy(get(env, "HTTP_PROXY")), proxy(get(env, "HTTPS_PROXY")), noProxy);
    }

    /** The upper case name first, then the lower case one; empty counts as unset. */
    private static String get(Map<String, String> env, String upper) {
        String v = env.get(upper);
        if (v == null || v.isEmpty()) {
            v = env.get(upper.toLowerCase(Locale.ROOT));
        }
        return v == null || v.isEmpty() ? null : v;
    }

    private static URI proxyUri(String value) {
        if (value == null) {
            return null;
        }
        try {
            URI uri = URI.create(value.contains("://") ? value : "http://" + value);
            return uri.getHost() == null ? null : uri;
        } catch (IllegalArgumentException e) {
            return null; // Go ignores an unparsable proxy too (the request then fails or goes direct)
        }
    }

    private static int port(URI uri) {
        if (uri.getPort() > 0) {
            return uri.getPort();
        }
        return switch (uri.getScheme()) {
            case "https" -> 443;
            case "socks5", "socks5h" -> 1080;
            default -> 80;
        };
    }

    private static Proxy proxy(String value) {
        URI uri = proxyUri(value);
        if (uri == null) {
            return null;
        }
        Proxy.Type type = uri.getScheme().startsWith("socks") ? Proxy.Type.SOCKS : Proxy.Type.HTTP;
        return new Proxy(type, InetSocketAddress.createUnresolved(uri.getHost(), port(uri)));
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public List<Proxy> select(URI uri) {
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        Proxy proxy = switch (scheme) {
            case "https" -> https;
            case "http" -> http;
            default -> null;
        };
        if (proxy == null || uri.getHost() == null || !useProxy(uri.getHost(), uri.getPort() > 0 ? uri.getPort()
                : scheme.equals("https") ? 443 : 80)) {
            return List.of(Proxy.NO_PROXY);
        }
        return List.of(proxy);
    }

    /** Go's {@code useProxy}: false for localhost, loopback and {@code NO_PROXY} matches. */
    boolean useProxy(String rawHost, int port) {
        String host = rawHost.toLowerCase(Locale.ROOT);
        if (host.startsWith("[") && host.endsWith("]")) {
            host = host.substring(1, host.length() - 1);
        }
        if (host.equals("localhost")) {
            return false;
        }
        InetAddress ip = literal(host);
        if (ip != null && ip.isLoopbackAddress()) {
            return false;
        }
        for (String entry : noProxy) {
            if (entry.equals("*")) {
                return false;
            }
            if (entry.contains("/")) {
                if (ip != null && inCidr(ip, entry)) {
                    return false;
                }
                continue;
            }
            String entryHost = entry;
            int entryPort = -1;
            int colon = entry.lastIndexOf(':');
            if (colon > 0 && entry.indexOf(':') == colon && entry.substring(colon + 1).chars().allMatch(Character::isDigit)) {
                entryHost = entry.substring(0, colon);
                entryPort = Integer.parseInt(entry.substring(colon + 1));
            } else if (entry.startsWith("[") && entry.contains("]:")) {
                entryHost = entry.substring(1, entry.indexOf("]:"));
                entryPort = Integer.parseInt(entry.substring(entry.indexOf("]:") + 2));
            }
            if (entryPort != -1 && entryPort != port) {
                continue;
            }
            InetAddress entryIp = literal(entryHost);
            if (entryIp != null) {
                if (entryIp.equals(ip)) {
                    return false;
                }
                continue;
            }
            if (entryHost.startsWith("*.")) {
                entryHost = entryHost.substring(1);
            }
            boolean alsoTheHostItself = !entryHost.startsWith(".");
            String suffix = alsoTheHostItself ? "." + entryHost : entryHost;
            if (host.endsWith(suffix) || (alsoTheHostItself && host.equals(entryHost))) {
                return false;
            }
        }
        return true;
    }

    /** An IP literal, never a name lookup; null when {@code host} is a name. */
    private static InetAddress literal(String host) {
        if (host.isEmpty() || !(Character.digit(host.charAt(0), 16) >= 0 || host.contains(":"))) {
            return null;
        }
        try {
            return InetAddress.ofLiteral(host);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static boolean inCidr(InetAddress ip, String cidr) {
        int slash = cidr.indexOf('/');
        InetAddress net = literal(cidr.substring(0, slash));
        int bits;
        try {
            bits = Integer.parseInt(cidr.substring(slash + 1));
        } catch (NumberFormatException e) {
            return false;
        }
        if (net == null || net.getAddress().length != ip.getAddress().length || bits < 0
                || bits > 8 * ip.getAddress().length) {
            return false;
        }
        byte[] a = ip.getAddress();
        byte[] b = net.getAddress();
        for (int i = 0; i < bits; i++) {
            int mask = 0x80 >> (i % 8);
            if ((a[i / 8] & mask) != (b[i / 8] & mask)) {
                return false;
            }
        }
        return true;
    }

    @Override
    public void connectFailed(URI uri, SocketAddress sa, IOException ioe) {
        // nothing to remember: Go does not fall back to a direct connection either
    }
}
