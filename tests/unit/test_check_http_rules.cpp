#include <catch2/catch.hpp>

#include "check/http_rules.hpp"

using namespace healthgate;
using namespace healthgate::check;

namespace {

Target target(const std::string& url) {
    auto t = parse_target(url);
    REQUIRE(t.ok());
    return *t;
}

Origin http_origin(std::string host, std::uint16_t port = 80) { return Origin{false, std::move(host), port}; }

RedirectDecision decide(std::string_view location, int followed = 0, int max = 5, int status = 302,
                        std::string_view host_header = "") {
    return decide_redirect(status, location, http_origin("api", 8080), host_header, "/v1/healthz?x=1", followed, max);
}

}  // namespace

TEST_CASE("Host header: the port only when not the scheme's default", "[http_rules]") {
    REQUIRE(default_host_header(target("http://api/healthz")) == "api");
    REQUIRE(default_host_header(target("http://api:80/")) == "api");
    REQUIRE(default_host_header(target("http://api:8080/")) == "api:8080");
    REQUIRE(default_host_header(target("https://api/")) == "api");
    REQUIRE(default_host_header(target("https://api:80/")) == "api:80");
    REQUIRE(default_host_header(target("http://[::1]:8080/")) == "[::1]:8080");
    REQUIRE(default_host_header(target("http://[::1]/")) == "[::1]");
}

TEST_CASE("redirect statuses", "[http_rules]") {
    for (int s : {301, 302, 303, 307, 308}) REQUIRE(is_redirect_status(s));
    for (int s : {200, 300, 304, 305, 399, 404}) REQUIRE_FALSE(is_redirect_status(s));
}

TEST_CASE("Location resolution: absolute, scheme-relative, path, relative, query", "[http_rules]") {
    Origin origin = http_origin("api", 8080);
    auto resolve = [&](std::string_view location) { return resolve_location(origin, "/v1/healthz?x=1", location); };

    auto abs = resolve("http://API:8080/ready?full=1#frag");
    REQUIRE(abs);
    REQUIRE(abs->origin.host == "API");
    REQUIRE(abs->origin.port == 8080);
    REQUIRE(abs->path == "/ready?full=1");

    auto https = resolve("https://api/ready");
    REQUIRE(https);
    REQUIRE(https->origin.https);
    REQUIRE(https->origin.port == 443);

    auto no_path = resolve("http://api:8080");
    REQUIRE(no_path);
    REQUIRE(no_path->path == "/");

    auto v6 = resolve("//[::1]:9000/x");
    REQUIRE(v6);
    REQUIRE(v6->origin.host == "::1");
    REQUIRE(v6->origin.port == 9000);
    REQUIRE_FALSE(v6->origin.https);

    REQUIRE(resolve("/ready")->path == "/ready");
    REQUIRE(resolve("ready")->path == "/v1/ready");
    REQUIRE(resolve("../ready")->path == "/ready");
    REQUIRE(resolve("./a/./b/../c")->path == "/v1/a/c");
    REQUIRE(resolve("?y=2")->path == "/v1/healthz?y=2");
    REQUIRE(resolve("/a b")->path == "/a%20b");

    REQUIRE_FALSE(resolve(""));
    REQUIRE_FALSE(resolve("#only-fragment"));
    REQUIRE_FALSE(resolve("ftp://api/file"));
    REQUIRE_FALSE(resolve("mailto:ops@example.com"));
    REQUIRE_FALSE(resolve("http:/missing-slash"));
    REQUIRE_FALSE(resolve("http://api:99999/"));
    REQUIRE_FALSE(resolve("http://user@api/"));
}

TEST_CASE("redirects: only the same host, port and scheme are followed", "[http_rules]") {
    auto follow = decide("/login");
    REQUIRE(follow.kind == RedirectDecision::follow);
    REQUIRE(follow.path == "/login");
    REQUIRE(decide("http://api:8080/login").kind == RedirectDecision::follow);
    REQUIRE(decide("http://API:8080/login").kind == RedirectDecision::follow);

    REQUIRE(decide("http://other:8080/login").kind == RedirectDecision::other_origin);
    REQUIRE(decide("http://api:8081/login").kind == RedirectDecision::other_origin);
    REQUIRE(decide("http://api/login").kind == RedirectDecision::other_origin);  // port 80
    REQUIRE(decide("https://api:8080/login").kind == RedirectDecision::other_origin);
    REQUIRE(decide("//other:8080/").kind == RedirectDecision::other_origin);

    // The Host header's name is ours too (a target reached by IP with host=).
    REQUIRE(decide("http://api.example:8080/x", 0, 5, 302, "api.example").kind == RedirectDecision::follow);
    REQUIRE(decide("http://api.example:8080/x", 0, 5, 302, "api.example:8080").kind == RedirectDecision::follow);
    REQUIRE(decide("http://api.example:8080/x").kind == RedirectDecision::other_origin);
}

TEST_CASE("redirects: limits, non-redirect statuses, unusable locations", "[http_rules]") {
    REQUIRE(decide("/a", 4, 5).kind == RedirectDecision::follow);
    REQUIRE(decide("/a", 5, 5).kind == RedirectDecision::too_many);
    REQUIRE(decide("/a", 0, 0).kind == RedirectDecision::not_redirect);  // redirects=0: judge the 3xx itself
    REQUIRE(decide("/a", 0, 5, 200).kind == RedirectDecision::not_redirect);
    REQUIRE(decide("/a", 0, 5, 304).kind == RedirectDecision::not_redirect);
    REQUIRE(decide("", 0, 5, 301).kind == RedirectDecision::not_redirect);
    REQUIRE(decide("ftp://api/", 0, 5, 301).kind == RedirectDecision::bad_location);
    for (int s : {301, 303, 307, 308}) REQUIRE(decide("/a", 0, 5, s).kind == RedirectDecision::follow);
}

TEST_CASE("body rules: substring and regex, on the prefix that was read", "[http_rules]") {
    HttpOptions options;
    options.body_contains = "\"status\":\"ok\"";
    REQUIRE_FALSE(body_mismatch(R"({"status":"ok"})", false, options, nullptr));
    auto why = body_mismatch(R"({"status":"degraded"})", false, options, nullptr);
    REQUIRE(why);
    REQUIRE(*why == R"(body does not contain ""status":"ok"": {"status":"degraded"})");

    // Capped: a match in the prefix is a match; a miss says only the prefix was searched.
    std::string big = "ok" + std::string(100, 'x');
    HttpOptions ok_rule;
    ok_rule.body_contains = "ok";
    REQUIRE_FALSE(body_mismatch(std::string_view(big).substr(0, 10), true, ok_rule, nullptr));
    HttpOptions late_rule;
    late_rule.body_contains = "late";
    auto capped = body_mismatch(std::string_view(big).substr(0, 10), true, late_rule, nullptr);
    REQUIRE(capped);
    REQUIRE(capped->find("in its first 10 bytes") != std::string::npos);

    HttpOptions re_rule;
    re_rule.body_regex = R"("ready"\s*:\s*true)";
    BodyRegex re(re_rule.body_regex, k_body_regex_flags);
    REQUIRE_FALSE(body_mismatch(R"({"ready" : true})", false, re_rule, &re));
    auto re_why = body_mismatch(R"({"ready": false})", false, re_rule, &re);
    REQUIRE(re_why);
    REQUIRE(re_why->rfind(R"(body does not match /"ready"\s*:\s*true/: )", 0) == 0);
}

TEST_CASE("body_regex keeps ECMAScript meaning and cannot crash on long bodies", "[http_rules]") {
    HttpOptions rule;
    rule.body_regex = "^ok$";
    BodyRegex anchored(rule.body_regex, k_body_regex_flags);
    REQUIRE_FALSE(body_mismatch("ok", false, rule, &anchored));
    REQUIRE(body_mismatch("line\nok\nmore", false, rule, &anchored));  // ^ $ anchor at the body's ends

    rule.body_regex = "a.b";
    BodyRegex dot(rule.body_regex, k_body_regex_flags);
    REQUIRE_FALSE(body_mismatch("axb", false, rule, &dot));
    REQUIRE(body_mismatch("a\nb", false, rule, &dot));  // '.' stops at a line break

    // 64 KiB on one line: std::regex would overflow the stack here.
    std::string line(65536, 'x');
    line += "END";
    rule.body_regex = "x.*END";
    BodyRegex greedy(rule.body_regex, k_body_regex_flags);
    REQUIRE_FALSE(body_mismatch(line, false, rule, &greedy));
    rule.body_regex = "(x|y)*END";
    BodyRegex alternation(rule.body_regex, k_body_regex_flags);
    auto heavy = body_mismatch(line, false, rule, &alternation);  // matches, or gives up with a reason
    if (heavy) REQUIRE(heavy->find("gave up") != std::string::npos);
    rule.body_regex = "(x+x+)+y";
    BodyRegex catastrophic(rule.body_regex, k_body_regex_flags);
    auto bounded = body_mismatch(std::string(40, 'x'), false, rule, &catastrophic);
    REQUIRE(bounded);
}

TEST_CASE("body excerpts are short, single-line and valid UTF-8", "[http_rules]") {
    REQUIRE(body_excerpt("", 10) == "(empty body)");
    REQUIRE(body_excerpt("db down\r\n\r\n  retry later\n", 80) == "db down retry later");
    REQUIRE(body_excerpt("0123456789abc", 10) == "0123456789...");
    REQUIRE(body_excerpt("caf\xc3\xa9!", 4) == "caf...");  // not cut inside the é
    REQUIRE(body_excerpt("a\x01" "b", 10) == "a?b");
    REQUIRE(body_excerpt("bad \xff byte", 20) == "bad \xef\xbf\xbd byte");
}

TEST_CASE("request_text: the request line, the default fields, header= options", "[http]") {
    REQUIRE(request_text(target("http://api:8080/healthz"), "api:8080", "/healthz?x=1") ==
            "GET /healthz?x=1 HTTP/1.1\r\nHost: api:8080\r\nUser-Agent: healthgate/" HEALTHGATE_VERSION
            "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    REQUIRE(request_text(target("http://api/#method=head"), "api", "/") ==
            "HEAD / HTTP/1.1\r\nHost: api\r\nUser-Agent: healthgate/" HEALTHGATE_VERSION
            "\r\nAccept: */*\r\nConnection: close\r\n\r\n");
    // A body-less POST still says so.
    REQUIRE(request_text(target("http://api/#method=post"), "api", "/") ==
            "POST / HTTP/1.1\r\nHost: api\r\nUser-Agent: healthgate/" HEALTHGATE_VERSION
            "\r\nAccept: */*\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    // header= adds fields in order, replaces a default of the same name
    // (case-insensitive), and the last of one name wins.
    REQUIRE(request_text(target("http://api/#header=X-Probe:1&header=user-agent:kube-probe/1.30&header=X-Probe:2"),
                         "api", "/") ==
            "GET / HTTP/1.1\r\nHost: api\r\nAccept: */*\r\nConnection: close\r\nuser-agent: kube-probe/1.30\r\n"
            "X-Probe: 2\r\n\r\n");
}
