#include <catch2/catch.hpp>

#include "check/resolv_conf.hpp"
#include "test_check_peers.hpp"

using namespace healthgate::check;

namespace {

ResolvConf parse_ok(const std::string& text) {
    auto conf = parse_resolv_conf(text, "resolv.conf");
    INFO((conf ? std::string() : conf.error()));
    REQUIRE(conf.ok());
    return *conf;
}

std::string parse_error(const std::string& text) {
    auto conf = parse_resolv_conf(text, "resolv.conf");
    REQUIRE_FALSE(conf.ok());
    return conf.error();
}

const char* k_pod_resolv_conf =
    "search shop.svc.cluster.local svc.cluster.local cluster.local\n"
    "nameserver 10.96.0.10\n"
    "options ndots:5\n";

}  // namespace

TEST_CASE("resolv.conf of a Kubernetes pod", "[resolv_conf]") {
    ResolvConf conf = parse_ok(k_pod_resolv_conf);
    REQUIRE(conf.nameservers == std::vector<Nameserver>{{"10.96.0.10", 53}});
    REQUIRE(conf.search == std::vector<std::string>{"shop.svc.cluster.local", "svc.cluster.local", "cluster.local"});
    REQUIRE(conf.ndots == 5);
    REQUIRE(conf.timeout_seconds == 5);
    REQUIRE(conf.attempts == 2);
    REQUIRE(resolver_summary(conf) ==
            "nameservers 10.96.0.10:53; search shop.svc.cluster.local svc.cluster.local cluster.local; ndots 5");
}

TEST_CASE("resolv.conf defaults: empty text, missing file", "[resolv_conf]") {
    ResolvConf conf = parse_ok("");
    REQUIRE(conf.nameservers == std::vector<Nameserver>{{"127.0.0.1", 53}});
    REQUIRE(conf.search.empty());
    REQUIRE(conf.ndots == 1);
    REQUIRE(resolver_summary(conf) == "nameservers 127.0.0.1:53; search (none); ndots 1");

    healthgate::test::TempDir dir;
    auto missing = load_resolv_conf(dir.file("does-not-exist"));
    REQUIRE(missing.ok());
    REQUIRE(missing->nameservers == std::vector<Nameserver>{{"127.0.0.1", 53}});
    REQUIRE(missing->ndots == 1);
}

TEST_CASE("resolv.conf is read from the given path", "[resolv_conf]") {
    healthgate::test::TempDir dir;
    auto path = dir.write("resolv.conf", k_pod_resolv_conf);
    auto conf = load_resolv_conf(path);
    REQUIRE(conf.ok());
    REQUIRE(conf->ndots == 5);

    auto bad = dir.write("bad.conf", "# ok\nnameserver 10.0.0.300\n");
    auto error = load_resolv_conf(bad);
    REQUIRE_FALSE(error.ok());
    REQUIRE(error.error() == bad + ":2: nameserver \"10.0.0.300\": not an IPv4 or IPv6 address");

    // A directory cannot be read as a file: an error, not the defaults.
    REQUIRE_FALSE(load_resolv_conf(dir.path()).ok());
}

TEST_CASE("resolv.conf is read whole, past any read size", "[resolv_conf]") {
    healthgate::test::TempDir dir;
    std::string text;
    while (text.size() < 20000) text += "# a long comment line, so the nameserver comes after many reads\n";
    text += "nameserver 10.96.0.10\noptions ndots:3";  // no final newline
    auto conf = load_resolv_conf(dir.write("long.conf", text));
    REQUIRE(conf.ok());
    REQUIRE(conf->nameservers == std::vector<Nameserver>{{"10.96.0.10", 53}});
    REQUIRE(conf->ndots == 3);

    auto empty = load_resolv_conf(dir.write("empty.conf", ""));
    REQUIRE(empty.ok());
    REQUIRE(empty->nameservers == std::vector<Nameserver>{{"127.0.0.1", 53}});
}

TEST_CASE("resolv.conf nameservers: IPv4, IPv6, the port extension, at most 3", "[resolv_conf]") {
    ResolvConf conf = parse_ok(
        "nameserver 127.0.0.1:5353\n"
        "nameserver [::1]:5354\n"
        "nameserver fd00::10\n"
        "nameserver 10.0.0.4\n");
    REQUIRE(conf.nameservers ==
            std::vector<Nameserver>{{"127.0.0.1", 5353}, {"::1", 5354}, {"fd00::10", 53}});
    REQUIRE(join_nameservers(conf, ",") == "127.0.0.1:5353,[::1]:5354,[fd00::10]:53");
    REQUIRE(join_nameservers(conf, ", ") == "127.0.0.1:5353, [::1]:5354, [fd00::10]:53");
    REQUIRE(format_nameserver({"::1", 53}) == "[::1]:53");

    // Brackets without a port, and text after the address, are fine.
    conf = parse_ok("nameserver [fd00::1]\nnameserver 10.0.0.1 # the cluster DNS\n");
    REQUIRE(conf.nameservers == std::vector<Nameserver>{{"fd00::1", 53}, {"10.0.0.1", 53}});

    // A link-local server with a scope cannot be given to c-ares: skipped.
    conf = parse_ok("nameserver fe80::1%eth0\nnameserver 10.0.0.2\n");
    REQUIRE(conf.nameservers == std::vector<Nameserver>{{"10.0.0.2", 53}});
}

TEST_CASE("resolv.conf: unusable nameserver lines are errors naming the line", "[resolv_conf]") {
    REQUIRE(parse_error("nameserver\n") == "resolv.conf:1: nameserver without an address");
    REQUIRE(parse_error("\nnameserver dns.example\n") ==
            "resolv.conf:2: nameserver \"dns.example\": not an IPv4 or IPv6 address");
    REQUIRE(parse_error("nameserver 127.0.0.1:0\n") ==
            "resolv.conf:1: nameserver \"127.0.0.1:0\": expected IPv4:port with a port from 1 to 65535");
    REQUIRE(parse_error("nameserver 127.0.0.1:70000\n").find("port from 1 to 65535") != std::string::npos);
    REQUIRE(parse_error("nameserver [::1:53\n") == "resolv.conf:1: nameserver \"[::1:53\": unclosed '['");
    REQUIRE(parse_error("nameserver [::1]53\n").find("expected [IPv6]:port") != std::string::npos);
    REQUIRE(parse_error("nameserver [10.0.0.1]:53\n").find("not an IPv4 or IPv6") != std::string::npos);
}

TEST_CASE("resolv.conf: search and domain, the last one wins", "[resolv_conf]") {
    REQUIRE(parse_ok("search a.example b.example\ndomain c.example\n").search == std::vector<std::string>{"c.example"});
    REQUIRE(parse_ok("domain c.example\nsearch a.example. b.example\n").search ==
            std::vector<std::string>{"a.example", "b.example"});
    REQUIRE(parse_ok("search\ta.example   b.example\r\n").search == std::vector<std::string>{"a.example", "b.example"});
    REQUIRE(parse_ok("domain x.example y.example\n").search == std::vector<std::string>{"x.example"});
}

TEST_CASE("resolv.conf options: ndots, timeout, attempts with glibc's caps", "[resolv_conf]") {
    ResolvConf conf = parse_ok("options ndots:2 timeout:3 attempts:4 rotate edns0 single-request\n");
    REQUIRE(conf.ndots == 2);
    REQUIRE(conf.timeout_seconds == 3);
    REQUIRE(conf.attempts == 4);

    conf = parse_ok("options ndots:99 timeout:100 attempts:9\n");
    REQUIRE(conf.ndots == k_max_ndots);
    REQUIRE(conf.timeout_seconds == k_max_timeout_seconds);
    REQUIRE(conf.attempts == k_max_attempts);

    conf = parse_ok("options ndots:0 timeout:0 attempts:0\n");
    REQUIRE(conf.ndots == 0);
    REQUIRE(conf.timeout_seconds == 1);  // c-ares needs at least one try of at least a second
    REQUIRE(conf.attempts == 1);

    conf = parse_ok("options ndots:x\noptions ndots:3\noptions timeout:\n");
    REQUIRE(conf.ndots == 3);
    REQUIRE(conf.timeout_seconds == 5);
}

TEST_CASE("resolv.conf: comments, unknown lines and glued keywords are ignored", "[resolv_conf]") {
    ResolvConf conf = parse_ok(
        "# generated\n"
        "; also a comment\n"
        "sortlist 130.155.160.0/255.255.240.0\n"
        "lookup file bind\n"
        "nameserverX 10.0.0.9\n"
        "searchx bad.example\n"
        " nameserver 10.0.0.8\n"  // glibc: keywords start the line
        "nameserver 10.0.0.1\n");
    REQUIRE(conf.nameservers == std::vector<Nameserver>{{"10.0.0.1", 53}});
    REQUIRE(conf.search.empty());
}

TEST_CASE("search candidates follow ndots and the search list", "[resolv_conf]") {
    ResolvConf pod = parse_ok(k_pod_resolv_conf);
    REQUIRE(search_candidates("db", pod) ==
            std::vector<std::string>{"db.shop.svc.cluster.local", "db.svc.cluster.local", "db.cluster.local", "db"});
    // 4 dots < ndots 5: the search list still comes first.
    REQUIRE(search_candidates("db.shop.svc.cluster.local", pod).front() == "db.shop.svc.cluster.local.shop.svc.cluster.local");
    REQUIRE(search_candidates("db.shop.svc.cluster.local", pod).back() == "db.shop.svc.cluster.local");
    // 5 dots: as is first.
    REQUIRE(search_candidates("a.b.c.d.e.f", pod).front() == "a.b.c.d.e.f");
    REQUIRE(search_candidates("a.b.c.d.e.f", pod).size() == 4);
    // A trailing dot makes the name absolute.
    REQUIRE(search_candidates("db.shop.svc.cluster.local.", pod) == std::vector<std::string>{"db.shop.svc.cluster.local"});

    ResolvConf plain = parse_ok("nameserver 10.0.0.1\n");
    REQUIRE(search_candidates("db", plain) == std::vector<std::string>{"db"});
    ResolvConf ndots1 = parse_ok("search example.com\n");
    REQUIRE(search_candidates("api.internal", ndots1) == std::vector<std::string>{"api.internal", "api.internal.example.com"});
    REQUIRE(search_candidates("api", ndots1) == std::vector<std::string>{"api.example.com", "api"});
}
