// The checks through the public Checker, against real sockets, files and
// servers on loopback opened by the test.
#include <boost/asio/local/stream_protocol.hpp>
#include <catch2/catch.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "check/check.hpp"
#include "check/check_context.hpp"
#include "test_check_peers.hpp"

using namespace healthgate;
using namespace healthgate::check;
using healthgate::test::DnsPeer;
using healthgate::test::HttpPeer;
using healthgate::test::TempDir;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
namespace asio = boost::asio;

namespace {

struct Fixture {
    asio::io_context io;
    TempDir dir;
    DnsPeer dns{io};
    std::unique_ptr<Checker> checker;

    explicit Fixture(const std::string& hosts = "127.0.0.1 localhost\n::1 localhost\n127.0.0.1 myservice\n") {
        std::string resolv = dir.write(
            "resolv.conf", fmt::format("nameserver 127.0.0.1:{}\nsearch ns.svc.cluster.local svc.cluster.local "
                                       "cluster.local\noptions ndots:5 timeout:1 attempts:1\n",
                                       dns.port()));
        auto created = Checker::create(io, CheckerOptions{resolv, dir.write("hosts", hosts)});
        REQUIRE(created.ok());
        checker = std::move(*created);
    }

    CheckResult run(const std::string& url, Duration timeout = 2s) {
        auto target = parse_target(url);
        INFO(url);
        REQUIRE(target.ok());
        return test::run_until_done(io, checker->run(*target, timeout));
    }
};

// A loopback TCP port with nothing listening.
std::uint16_t closed_tcp_port(asio::io_context& io) {
    asio::ip::tcp::acceptor a(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    return a.local_endpoint().port();
}

// A listener whose accept queue is full: further SYNs are dropped, so a
// connect hangs like one to a firewalled port.
struct FullListener {
    explicit FullListener(asio::io_context& io)
        : acceptor(io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0)) {
        acceptor.listen(0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(acceptor.local_endpoint().port());
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        for (int& fd : fillers) {
            fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
            ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to);
        }
    }
    ~FullListener() {
        for (int fd : fillers) ::close(fd);
    }
    std::uint16_t port() const { return acceptor.local_endpoint().port(); }
    asio::ip::tcp::acceptor acceptor;
    int fillers[3] = {-1, -1, -1};
};

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

void set_mtime_ago(const std::string& path, std::chrono::seconds ago) {
    timeval times[2];
    ::gettimeofday(&times[0], nullptr);
    times[0].tv_sec -= ago.count();
    times[1] = times[0];
    REQUIRE(::utimes(path.c_str(), times) == 0);
}

}  // namespace

TEST_CASE("failure names are short and stable", "[checker]") {
    REQUIRE(failure_name(Failure::none) == "ok");
    REQUIRE(failure_name(Failure::connection_refused) == "connection refused");
    REQUIRE(failure_name(Failure::connect_timeout) == "connect timeout");
    REQUIRE(failure_name(Failure::dns_no_such_name) == "dns: no such name");
    REQUIRE(failure_name(Failure::dns_server_unreachable) == "dns: server unreachable");
    REQUIRE(failure_name(Failure::tls_verify) == "tls verify");
    REQUIRE(failure_name(Failure::file_stale) == "file stale");
    REQUIRE(failure_name(Failure::other) == "other");
}

TEST_CASE("budget_text: whole seconds short, else like format_duration", "[checker]") {
    REQUIRE(budget_text(2s) == "2s");
    REQUIRE(budget_text(1999800us) == "2s");
    REQUIRE(budget_text(1500ms) == "1.5s");
    REQUIRE(budget_text(250ms) == "250ms");
    REQUIRE(budget_text(90s) == "1m30s");
}

TEST_CASE("Checker::create: resolv.conf errors name file:line; resolver summary", "[checker]") {
    asio::io_context io;
    TempDir dir;
    auto bad = dir.write("resolv.conf", "nameserver 10.0.0.1\nnameserver nope\n");
    auto created = Checker::create(io, CheckerOptions{bad, "/etc/hosts"});
    REQUIRE_FALSE(created.ok());
    REQUIRE(contains(created.error(), bad + ":2:"));

    auto good = dir.write("good.conf", "nameserver 10.96.0.10\nsearch a.svc.cluster.local svc.cluster.local cluster.local\n"
                                       "options ndots:5\n");
    auto checker = Checker::create(io, CheckerOptions{good, "/etc/hosts"});
    REQUIRE(checker.ok());
    REQUIRE((*checker)->resolver_summary() ==
            "nameservers 10.96.0.10:53; search a.svc.cluster.local svc.cluster.local cluster.local; ndots 5");
}

TEST_CASE("needs_name_lookup: dns targets and host names, not IP literals or paths", "[checker]") {
    auto needs = [](const std::string& url) {
        auto target = parse_target(url);
        REQUIRE(target.ok());
        return needs_name_lookup(*target);
    };
    REQUIRE(needs("dns://db.ns.svc.cluster.local"));
    REQUIRE(needs("tcp://db:5432"));
    REQUIRE(needs("tcp://localhost:5432"));
    REQUIRE(needs("http://api.example.com/healthz"));
    REQUIRE(needs("https://api:8443/"));
    REQUIRE_FALSE(needs("tcp://10.0.0.1:5432"));
    REQUIRE_FALSE(needs("http://127.0.0.1:8080/healthz"));
    REQUIRE_FALSE(needs("https://[::1]:8443/"));
    REQUIRE_FALSE(needs("file:///tmp/ready"));
    REQUIRE_FALSE(needs("unix:///run/app.sock"));
}

TEST_CASE("Checker::create without names needed does not read resolv.conf", "[checker]") {
    asio::io_context io;
    TempDir dir;
    auto bad = dir.write("resolv.conf", "nameserver nope\n");
    CheckerOptions options{bad, "/etc/hosts"};
    options.names_needed = false;
    auto checker = Checker::create(io, options);
    REQUIRE(checker.ok());
    REQUIRE(contains((*checker)->resolver_summary(), "nameservers 127.0.0.1:53"));
    options.names_needed = true;
    REQUIRE_FALSE(Checker::create(io, options).ok());
}

TEST_CASE("the c-ares channel starts on the first lookup, once", "[checker]") {
    asio::io_context io;
    ResolvConf conf;
    conf.nameservers = {{"127.0.0.1", 53}};
    conf.ndots = 4;
    LazyResolver lazy(io, conf);
    REQUIRE_FALSE(lazy.started());
    REQUIRE(lazy.conf().ndots == 4);
    auto first = lazy.get();
    REQUIRE(first.ok());
    REQUIRE(lazy.started());
    REQUIRE((*first)->conf().ndots == 4);
    auto second = lazy.get();
    REQUIRE(second.ok());
    REQUIRE(*second == *first);
}

TEST_CASE("tcp: refused, accepted, unanswered", "[checker][tcp]") {
    Fixture f;
    std::uint16_t closed = closed_tcp_port(f.io);
    auto refused = f.run(fmt::format("tcp://127.0.0.1:{}", closed));
    REQUIRE(refused.failure == Failure::connection_refused);
    REQUIRE(refused.reason == fmt::format("connect 127.0.0.1:{}: connection refused", closed));

    asio::ip::tcp::acceptor listener(f.io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto ok = f.run(fmt::format("tcp://127.0.0.1:{}", listener.local_endpoint().port()));
    REQUIRE(ok.ok());
    REQUIRE(ok.reason.empty());
    REQUIRE(ok.latency < 2s);

    FullListener full(f.io);
    auto start = Clock::now();
    auto timeout = f.run(fmt::format("tcp://127.0.0.1:{}", full.port()), 400ms);
    auto took = Clock::now() - start;
    REQUIRE(timeout.failure == Failure::connect_timeout);
    REQUIRE(timeout.reason == fmt::format("connect 127.0.0.1:{}: timed out after 400ms (no answer: often a "
                                          "NetworkPolicy or firewall)",
                                          full.port()));
    REQUIRE(took >= 350ms);
    REQUIRE(took < 3s);
    REQUIRE(timeout.latency >= 350ms);
}

TEST_CASE("tcp: IPv6 loopback and several addresses", "[checker][tcp]") {
    Fixture f;
    asio::ip::tcp::acceptor v6(f.io, asio::ip::tcp::endpoint(asio::ip::make_address("::1"), 0));
    REQUIRE(f.run(fmt::format("tcp://[::1]:{}", v6.local_endpoint().port())).ok());

    // localhost is 127.0.0.1 and ::1 in the hosts file: the IPv4 address
    // is refused (or taken by someone else), the IPv6 one accepts.
    auto port = v6.local_endpoint().port();
    auto both = f.run(fmt::format("tcp://localhost:{}", port));
    INFO(both.reason);
    REQUIRE(both.ok());

    std::uint16_t closed = closed_tcp_port(f.io);
    auto all_refused = f.run(fmt::format("tcp://localhost:{}", closed));
    REQUIRE(all_refused.failure == Failure::connection_refused);
    REQUIRE(all_refused.reason == fmt::format("connect localhost:{0}: 127.0.0.1:{0} connection refused; [::1]:{0} "
                                              "connection refused",
                                              closed));
}

TEST_CASE("tcp: names from the hosts file, then DNS with the search list", "[checker][tcp][dns]") {
    Fixture f;
    f.dns.names["db.ns.svc.cluster.local"].a = {{127, 0, 0, 1}};
    f.dns.names["slow.ns.svc.cluster.local"].silent = true;
    asio::ip::tcp::acceptor listener(f.io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto port = listener.local_endpoint().port();

    REQUIRE(f.run(fmt::format("tcp://myservice:{}", port)).ok());
    REQUIRE(f.dns.queried.empty());  // the hosts file answered

    auto db = f.run(fmt::format("tcp://db:{}", port));
    INFO(db.reason);
    REQUIRE(db.ok());
    REQUIRE(f.dns.queried.size() >= 1);
    REQUIRE(contains(f.dns.queried.front(), "db.ns.svc.cluster.local"));

    auto missing = f.run(fmt::format("tcp://nosuch:{}", port));
    REQUIRE(missing.failure == Failure::dns_no_such_name);
    REQUIRE(missing.reason == "dns lookup of nosuch: no such name: tried nosuch.ns.svc.cluster.local, "
                              "nosuch.svc.cluster.local, nosuch.cluster.local, nosuch");

    auto start = Clock::now();
    auto slow = f.run(fmt::format("tcp://slow:{}", port), 300ms);
    REQUIRE(slow.failure == Failure::dns_server_unreachable);
    REQUIRE(slow.reason == fmt::format("dns lookup of slow timed out after 300ms (nameserver 127.0.0.1:{})", f.dns.port()));
    REQUIRE(Clock::now() - start < 2s);
}

TEST_CASE("many checks at once on one Checker", "[checker][tcp]") {
    Fixture f;
    asio::ip::tcp::acceptor listener(f.io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    std::uint16_t closed = closed_tcp_port(f.io);
    f.dns.names["db.ns.svc.cluster.local"].a = {{127, 0, 0, 1}};
    std::vector<Target> targets;
    for (int i = 0; i < 16; ++i) {
        std::string url = i % 3 == 0   ? fmt::format("tcp://127.0.0.1:{}", closed)
                          : i % 3 == 1 ? fmt::format("tcp://db:{}", listener.local_endpoint().port())
                                       : fmt::format("dns://db#min=1");
        targets.push_back(*parse_target(url));
    }
    std::vector<CheckResult> results(targets.size());
    int done = 0;
    for (std::size_t i = 0; i < targets.size(); ++i) {
        asio::co_spawn(
            f.io,
            [&, i]() -> asio::awaitable<void> {
                results[i] = co_await f.checker->run(targets[i], 2s);
                ++done;
            },
            asio::detached);
    }
    while (done < static_cast<int>(targets.size())) f.io.run_one();
    for (std::size_t i = 0; i < targets.size(); ++i) {
        INFO(targets[i].url << ": " << results[i].reason);
        REQUIRE(results[i].failure == (i % 3 == 0 ? Failure::connection_refused : Failure::none));
    }
}

TEST_CASE("dns: min answers, expected address, no such name", "[checker][dns]") {
    Fixture f;
    f.dns.names["db.ns.svc.cluster.local"].a = {{10, 0, 0, 1}};
    f.dns.names["pool.ns.svc.cluster.local"].a = {{10, 0, 0, 1}, {10, 0, 0, 2}, {10, 0, 0, 3}};

    REQUIRE(f.run("dns://db").ok());
    REQUIRE(f.run("dns://pool#min=3").ok());
    auto few = f.run("dns://db#min=3");
    REQUIRE(few.failure == Failure::dns_too_few_answers);
    REQUIRE(few.reason == "dns A db: 1 answer, want at least 3 (10.0.0.1)");

    REQUIRE(f.run("dns://pool#expect=10.0.0.2").ok());
    auto unexpected = f.run("dns://pool#expect=10.0.0.9");
    REQUIRE(unexpected.failure == Failure::dns_unexpected_answer);
    REQUIRE(unexpected.reason == "dns A pool: 10.0.0.9 is not among the answers (10.0.0.1, 10.0.0.2, 10.0.0.3)");

    auto nodata = f.run("dns://db#type=AAAA");
    REQUIRE(nodata.failure == Failure::dns_no_answer);
    REQUIRE(contains(nodata.reason, "no AAAA record"));

    auto missing = f.run("dns://nosuch.ns.svc.cluster.local.");
    REQUIRE(missing.failure == Failure::dns_no_such_name);
    REQUIRE(missing.reason == "dns A nosuch.ns.svc.cluster.local.: no such name: tried nosuch.ns.svc.cluster.local");

    // /etc/hosts is not consulted for dns:// targets.
    auto hosts_only = f.run("dns://myservice");
    REQUIRE(hosts_only.failure == Failure::dns_no_such_name);
}

TEST_CASE("http: status, body, headers sent", "[checker][http]") {
    Fixture f;
    HttpPeer http(f.io, [](const std::string& target, const std::string&) {
        if (target == "/healthz") return HttpPeer::response(200, "{\"status\":\"ok\"}");
        if (target == "/down") return HttpPeer::response(503, "database unreachable\n");
        if (target == "/chunked")
            return std::string("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                               "3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n");
        return HttpPeer::response(404, "");
    });
    auto base = fmt::format("http://127.0.0.1:{}", http.port());

    auto ok = f.run(base + "/healthz#body=ok&header=X-Probe:yes");
    INFO(ok.reason);
    REQUIRE(ok.ok());
    const std::string& head = http.heads.back();
    REQUIRE(contains(head, "GET /healthz HTTP/1.1\r\n"));
    REQUIRE(contains(head, fmt::format("Host: 127.0.0.1:{}\r\n", http.port())));
    REQUIRE(contains(head, "User-Agent: healthgate/"));
    REQUIRE(contains(head, "Connection: close\r\n"));
    REQUIRE(contains(head, "X-Probe: yes\r\n"));

    auto down = f.run(base + "/down");
    REQUIRE(down.failure == Failure::http_status);
    REQUIRE(down.reason == "HTTP 503 Whatever (want 200-399): database unreachable");

    auto wrong_body = f.run(base + "/healthz#body=ready");
    REQUIRE(wrong_body.failure == Failure::http_body);
    REQUIRE(wrong_body.reason == "body does not contain \"ready\": {\"status\":\"ok\"}");

    REQUIRE(f.run(base + "/healthz#body_regex=%22status%22%3A%22(ok|degraded)%22").ok());
    REQUIRE(f.run(base + "/chunked#body=cdef").ok());
    REQUIRE(f.run(base + "/nothing#status=404").ok());
    REQUIRE(f.run(base + "/healthz#method=HEAD").ok());
    REQUIRE(contains(http.heads.back(), "HEAD /healthz HTTP/1.1\r\n"));
    REQUIRE(f.run(base + "/healthz#host=api.example").ok());
    REQUIRE(contains(http.heads.back(), "Host: api.example\r\n"));
}

TEST_CASE("http: a body larger than max_body is matched on its prefix", "[checker][http]") {
    Fixture f;
    std::string big = "HEAD-MARKER" + std::string(200000, 'x') + "TAIL-MARKER";
    HttpPeer http(f.io, [&](const std::string&, const std::string&) { return HttpPeer::response(200, big); });
    auto base = fmt::format("http://127.0.0.1:{}/", http.port());
    REQUIRE(f.run(base + "#body=HEAD-MARKER").ok());
    auto tail = f.run(base + "#body=TAIL-MARKER&max_body=1000");
    REQUIRE(tail.failure == Failure::http_body);
    REQUIRE(contains(tail.reason, "in its first 1000 bytes"));
    REQUIRE(f.run(base + "#body=TAIL-MARKER&max_body=300000").ok());
}

TEST_CASE("http: same-host redirects followed, others not", "[checker][http]") {
    Fixture f;
    std::uint16_t port = 0;
    HttpPeer http(f.io, [&](const std::string& target, const std::string&) {
        if (target == "/start") return HttpPeer::response(302, "", "Location: /middle\r\n");
        if (target == "/middle") return HttpPeer::response(301, "", fmt::format("Location: http://127.0.0.1:{}/end\r\n", port));
        if (target == "/end") return HttpPeer::response(200, "arrived");
        if (target == "/away") return HttpPeer::response(302, "", "Location: http://elsewhere.example/\r\n");
        if (target == "/loop") return HttpPeer::response(307, "", "Location: /loop\r\n");
        return HttpPeer::response(404, "");
    });
    port = http.port();
    auto base = fmt::format("http://127.0.0.1:{}", port);

    auto followed = f.run(base + "/start#body=arrived");
    INFO(followed.reason);
    REQUIRE(followed.ok());

    // Another host: not followed; the 302 is accepted by default, like the kubelet.
    REQUIRE(f.run(base + "/away").ok());
    auto strict = f.run(base + "/away#status=200");
    REQUIRE(strict.failure == Failure::http_protocol);
    REQUIRE(contains(strict.reason, "http://elsewhere.example/"));

    auto loop = f.run(base + "/loop#redirects=3");
    REQUIRE(loop.failure == Failure::http_protocol);
    REQUIRE(contains(loop.reason, "stopped after 3 redirects"));

    // redirects=0: the 3xx itself is judged.
    REQUIRE(f.run(base + "/start#redirects=0").ok());
    auto judged = f.run(base + "/start#redirects=0&status=200");
    REQUIRE(judged.failure == Failure::http_status);
    REQUIRE(contains(judged.reason, "Location: /middle"));
}

TEST_CASE("http: a listener that never answers is a read timeout; refused is refused", "[checker][http]") {
    Fixture f;
    // The kernel completes the handshake; nobody ever reads the request.
    asio::ip::tcp::acceptor silent(f.io, asio::ip::tcp::endpoint(asio::ip::make_address("127.0.0.1"), 0));
    auto start = Clock::now();
    auto result = f.run(fmt::format("http://127.0.0.1:{}/healthz", silent.local_endpoint().port()), 400ms);
    REQUIRE(result.failure == Failure::read_timeout);
    REQUIRE(contains(result.reason, "read timed out after"));
    REQUIRE(contains(result.reason, fmt::format("127.0.0.1:{}", silent.local_endpoint().port())));
    REQUIRE(Clock::now() - start < 3s);

    auto refused = f.run(fmt::format("http://127.0.0.1:{}/", closed_tcp_port(f.io)));
    REQUIRE(refused.failure == Failure::connection_refused);

    // Not HTTP at all.
    HttpPeer garbage(f.io, [](const std::string&, const std::string&) { return std::string("SSH-2.0-OpenSSH\r\n\r\n"); });
    auto bad = f.run(fmt::format("http://127.0.0.1:{}/", garbage.port()));
    REQUIRE(bad.failure == Failure::http_protocol);
}

TEST_CASE("https: a plain HTTP server is a TLS handshake failure", "[checker][https]") {
    Fixture f;
    HttpPeer http(f.io, [](const std::string&, const std::string&) { return HttpPeer::response(400, "plain http"); });
    auto result = f.run(fmt::format("https://127.0.0.1:{}/#insecure=true", http.port()));
    INFO(result.reason);
    REQUIRE((result.failure == Failure::tls_handshake || result.failure == Failure::connection_reset));
    auto missing_ca = f.run(fmt::format("https://127.0.0.1:{}/#ca={}", http.port(), f.dir.file("nope.pem")));
    REQUIRE(missing_ca.failure == Failure::other);
    REQUIRE(contains(missing_ca.reason, "cannot load CA certificates"));
}

TEST_CASE("file: missing, appears, empty, stale", "[checker][file]") {
    Fixture f;
    std::string path = f.dir.file("ready");
    auto missing = f.run("file://" + path);
    REQUIRE(missing.failure == Failure::file_missing);
    REQUIRE(missing.reason == "file " + path + " does not exist");

    f.dir.write("ready", "");
    REQUIRE(f.run("file://" + path).ok());
    auto empty = f.run("file://" + path + "#non_empty=true");
    REQUIRE(empty.failure == Failure::file_empty);
    REQUIRE(empty.reason == "file " + path + " is empty");

    f.dir.write("ready", "1");
    REQUIRE(f.run("file://" + path + "#non_empty=true&max_age=30s").ok());
    set_mtime_ago(path, 300s);
    auto stale = f.run("file://" + path + "#max_age=30s");
    REQUIRE(stale.failure == Failure::file_stale);
    REQUIRE(contains(stale.reason, "file " + path + " last modified 5m"));
    REQUIRE(contains(stale.reason, "ago (max_age 30s)"));

    REQUIRE(f.run("file://" + path + "/below").failure == Failure::file_missing);
}

TEST_CASE("unix: missing, listening, stale socket file, not a socket", "[checker][unix]") {
    Fixture f;
    std::string path = f.dir.file("app.sock");
    auto missing = f.run("unix://" + path);
    REQUIRE(missing.failure == Failure::socket_missing);
    REQUIRE(missing.reason == "unix socket " + path + " does not exist");

    {
        asio::local::stream_protocol::acceptor listener(f.io, asio::local::stream_protocol::endpoint(path));
        auto ok = f.run("unix://" + path);
        INFO(ok.reason);
        REQUIRE(ok.ok());
    }
    {
        // A listener that never accepts, its backlog full.
        std::string full_path = f.dir.file("full.sock");
        asio::local::stream_protocol::acceptor full(f.io, asio::local::stream_protocol::endpoint(full_path));
        full.listen(0);
        std::vector<std::unique_ptr<asio::local::stream_protocol::socket>> fillers;
        for (int i = 0; i < 3; ++i) {
            auto s = std::make_unique<asio::local::stream_protocol::socket>(f.io);
            s->open();
            s->non_blocking(true);
            boost::system::error_code ignored;
            s->connect(asio::local::stream_protocol::endpoint(full_path), ignored);
            fillers.push_back(std::move(s));
        }
        auto result = f.run("unix://" + full_path, 500ms);
        REQUIRE(result.failure == Failure::connect_timeout);
        REQUIRE(contains(result.reason, "backlog is full"));
    }
    // The listener is gone, its socket file stays.
    auto stale = f.run("unix://" + path);
    REQUIRE(stale.failure == Failure::connection_refused);
    REQUIRE(contains(stale.reason, "connection refused"));

    std::string file = f.dir.write("plain", "x");
    auto not_socket = f.run("unix://" + file);
    REQUIRE(not_socket.failure == Failure::other);
    REQUIRE(contains(not_socket.reason, "is not a socket"));
}
