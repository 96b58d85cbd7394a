#include <catch2/catch.hpp>

#include "check/http_rules.hpp"
#include "common/target.hpp"

using namespace healthgate;

TEST_CASE("tcp targets, including IPv6 literals", "[target]") {
    auto t = parse_target("tcp://postgres:5432");
    REQUIRE(t.ok());
    CHECK(t->kind->name == "tcp");
    CHECK(t->host == "postgres");
    CHECK(t->port == 5432);
    CHECK(t->name == "tcp://postgres:5432");
    auto v6 = parse_target("tcp://[::1]:5432");
    REQUIRE(v6.ok());
    CHECK(v6->host == "::1");
    CHECK(v6->host_is_ip_literal());
    CHECK(v6->authority() == "[::1]:5432");
}

TEST_CASE("http targets keep their query; options follow '#'", "[target]") {
    auto t = parse_target("http://api:8080/healthz?full=1#status=200,204&body=ok&timeout=2s&header=X-A:%201");
    REQUIRE(t.ok());
    CHECK(t->kind->name == "http");
    CHECK(t->port == 8080);
    CHECK(t->path == "/healthz?full=1");
    CHECK(t->options_as<check::HttpOptions>().statuses.contains(204));
    CHECK_FALSE(t->options_as<check::HttpOptions>().statuses.contains(302));
    CHECK(t->options_as<check::HttpOptions>().body_contains == "ok");
    CHECK(t->timeout->count() == 2000);
    REQUIRE(t->options_as<check::HttpOptions>().headers.size() == 1);
    CHECK(t->options_as<check::HttpOptions>().headers[0].first == "X-A");
    CHECK(t->options_as<check::HttpOptions>().headers[0].second == "1");
    CHECK(t->name == "http://api:8080/healthz?full=1");
    auto plain = parse_target("https://example.com");
    REQUIRE(plain.ok());
    CHECK(plain->port == 443);
    CHECK(plain->path == "/");
}

TEST_CASE("https, dns, file and unix options", "[target]") {
    auto https = parse_target("https://10.0.0.1/#ca=/etc/ca.pem&sni=api.internal&insecure=false&name=api");
    REQUIRE(https.ok());
    CHECK(https->options_as<check::HttpOptions>().ca_file == "/etc/ca.pem");
    CHECK(https->options_as<check::HttpOptions>().server_name == "api.internal");
    CHECK(https->name == "api");
    auto dns = parse_target("dns://db-headless?type=srv&min=3");
    REQUIRE(dns.ok());
    CHECK(dns->kind->name == "dns");  // type= and min= at work: test_check_checker
    auto file = parse_target("file:///tmp/ready?non_empty&max_age=30s");
    REQUIRE(file.ok());
    CHECK(file->path == "/tmp/ready");
    CHECK(file->kind->name == "file");  // non_empty= and max_age= at work: test_check_checker
    auto sock = parse_target("unix:///run/app.sock");
    REQUIRE(sock.ok());
    CHECK(sock->kind->name == "unix");
}

TEST_CASE("bad targets name the bad part", "[target]") {
    struct Case {
        const char* url;
        const char* expect;
    };
    for (auto [url, expect] : std::initializer_list<Case>{
             {"postgres:5432", "expected a URL"},
             {"ftp://x", "unknown scheme \"ftp\""},
             {"tcp://postgres", "missing port"},
             {"tcp://postgres:0", "invalid port"},
             {"tcp://postgres:99999", "invalid port"},
             {"tcp://::1:5432", "brackets"},
             {"tcp://[::1:5432", "unclosed"},
             {"tcp://[zz]:1", "invalid IPv6"},
             {"tcp://:80", "missing host"},
             {"tcp://a b:80", "invalid host"},
             {"http://u:p@host/", "credentials"},
             {"http://h/#status=abc", "invalid status"},
             {"http://h/#body_regex=(", "regular expression"},
             {"http://h/#ca=/x", "does not apply to http://"},
             {"http://h/#nope=1", "does not apply"},
             {"http://h/#timeout=fast", "invalid duration"},
             {"http://h/#header=novalue", "Name:value"},
             {"http://h/#method=G3T", "HTTP method"},
             {"dns://a/b", "name only"},
             {"dns://x?type=MX", "A, AAAA or SRV"},
             {"dns://x?min=0", "at least 1"},
             {"dns://x?expect=notip", "IPv4 or IPv6"},
             {"dns://x?type=SRV&expect=10.0.0.1", "SRV answers are host names"},
             {"dns://x?expect=::1", "never be an A answer"},
             {"dns://x?type=AAAA&expect=10.0.0.1", "never be an AAAA answer"},
             {"file://relative", "absolute path"},
             {"file:///x?max_age=-1s", "invalid duration"},
             {"unix:///x?status=200", "does not apply"},
             {"tcp://h:1?a=%zz", "%-escape"},
         }) {
        auto t = parse_target(url);
        INFO(url);
        REQUIRE_FALSE(t.ok());
        CHECK_THAT(t.error(), Catch::Contains(expect));
        CHECK_THAT(t.error(), Catch::Contains(redact_target_url(url)));  // secrets (header=) as <secret>
    }
}
