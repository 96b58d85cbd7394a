#include <catch2/catch.hpp>

#include "probe/http_handler.hpp"
#include "probe_fixtures.hpp"

using namespace healthgate;
using namespace healthgate::probe;
using namespace std::chrono_literals;
using namespace probe_fixtures;

namespace {

// A pod: app (liveness+readiness) up, db (readiness) down; container "worker" with q up.
struct Pod {
    std::vector<GroupEntry> groups{
        {"", {entry("app", {ProbeKind::liveness, ProbeKind::readiness}), entry("db", {ProbeKind::readiness}),
              entry("tcp:127.0.0.1:9/x", {ProbeKind::readiness})}},
        {"worker", {entry("q", {ProbeKind::liveness, ProbeKind::readiness})}}};
    bool draining = false;
    Pod() {
        groups[0].checks[0].state.record(ok(), k_t0);
        groups[0].checks[1].state.record(refused(), k_t0);
        groups[0].checks[2].state.record(ok(), k_t0);
        groups[1].checks[0].state.record(ok(), k_t0);
    }
    Response get(std::string_view target, std::string_view accept = "", std::string_view method = "GET") const {
        return handle(Request{method, target, accept}, Snapshot{&groups, k_t0 + 10ms, {}, draining});
    }
};

}  // namespace

TEST_CASE("/livez and /readyz answer 200 ok or 503 with the failing line", "[http_handler]") {
    Pod pod;
    Response live = pod.get("/livez");
    CHECK(live.status == 200);
    CHECK(live.body == "ok");
    CHECK(live.content_type == k_content_text);
    Response ready = pod.get("/readyz");
    CHECK(ready.status == 503);
    CHECK(ready.body ==
          "[+]app ok\n[-]db failed: connection refused: connect 10.0.0.5:5432: refused\n[+]tcp:127.0.0.1:9/x ok\n"
          "readyz check failed\n");
    CHECK(pod.get("/startupz").status == 200);
    CHECK(pod.get("/readyz/").status == 503);  // a trailing slash is the same endpoint
}

TEST_CASE("?verbose lists every check, ?exclude leaves some out", "[http_handler]") {
    Pod pod;
    CHECK(pod.get("/livez?verbose").body == "[+]app ok\nlivez check passed\n");
    CHECK(pod.get("/livez?verbose=1").body == "[+]app ok\nlivez check passed\n");
    Response excluded = pod.get("/readyz?exclude=db&verbose");
    CHECK(excluded.status == 200);
    CHECK(excluded.body == "[+]app ok\n[+]db excluded: ok\n[+]tcp:127.0.0.1:9/x ok\nreadyz check passed\n");
    CHECK(pod.get("/readyz?exclude=db").body == "ok");
    CHECK(pod.get("/readyz?exclude=tcp%3A127.0.0.1%3A9%2Fx&exclude=db").status == 200);
    CHECK(pod.get("/readyz?exclude=nosuch").status == 503);
    CHECK(pod.get("/readyz?unknown=1&exclude=db").status == 200);  // unknown parameters are ignored
}

TEST_CASE("a per-check sub-path answers for that check alone", "[http_handler]") {
    Pod pod;
    Response app = pod.get("/readyz/app");
    CHECK(app.status == 200);
    CHECK(app.body == "ok");
    Response db = pod.get("/readyz/db?verbose");
    CHECK(db.status == 503);
    CHECK(db.body == "[-]db failed: connection refused: connect 10.0.0.5:5432: refused\nreadyz check failed\n");
    CHECK(pod.get("/readyz/tcp:127.0.0.1:9/x").status == 200);  // names may hold '/'
    CHECK(pod.get("/readyz/tcp%3A127.0.0.1%3A9%2Fx").status == 200);
    Response missing = pod.get("/livez/db");  // db is not a liveness check
    CHECK(missing.status == 404);
    CHECK(missing.body == "no liveness check named \"db\"\n");
}

TEST_CASE("containers have their own endpoints", "[http_handler]") {
    Pod pod;
    CHECK(pod.get("/worker/readyz").status == 200);
    CHECK(pod.get("/worker/livez?verbose").body == "[+]q ok\nlivez check passed\n");
    CHECK(pod.get("/worker/readyz/q").status == 200);
    CHECK(pod.get("/worker/readyz/app").status == 404);
    CHECK(pod.get("/worker/readyz/app").body == "no readiness check named \"app\" in container worker\n");
    CHECK(pod.get("/other/readyz").status == 404);
    CHECK(pod.get("/worker").status == 404);
    CHECK(pod.get("/worker/metrics").status == 404);
}

TEST_CASE("JSON on request: ?format=json or Accept: application/json", "[http_handler]") {
    Pod pod;
    Response json = pod.get("/readyz?format=json");
    CHECK(json.status == 503);
    CHECK(json.content_type == k_content_json);
    CHECK_THAT(json.body, Catch::StartsWith(R"({"probe":"readiness","container":"","status":"failed")"));
    CHECK_THAT(json.body, Catch::Contains(R"("name":"db","status":"failed")"));
    Response accepted = pod.get("/livez", "text/html, application/json;q=0.9");
    CHECK(accepted.content_type == k_content_json);
    CHECK_THAT(accepted.body, Catch::Contains(R"("status":"ok")"));
    CHECK(pod.get("/livez?format=text", "application/json").content_type == k_content_text);
    Response bad = pod.get("/livez?format=xml");
    CHECK(bad.status == 400);
    CHECK(bad.body == "unknown format \"xml\" (use json or text)\n");
}

TEST_CASE("/metrics reads the latest results", "[http_handler]") {
    Pod pod;
    Response metrics = pod.get("/metrics");
    CHECK(metrics.status == 200);
    CHECK(metrics.content_type == k_content_metrics);
    CHECK_THAT(metrics.body, Catch::Contains("healthgate_check_up{container=\"\",check=\"db\"} 0\n"));
    CHECK(pod.get("/metrics?anything").status == 200);
}

TEST_CASE("only GET and HEAD; other methods get 405 with Allow", "[http_handler]") {
    Pod pod;
    CHECK(pod.get("/readyz/app", "", "HEAD").status == 200);
    for (const char* method : {"POST", "PUT", "DELETE", "OPTIONS", "PATCH", "BREW"}) {
        Response response = pod.get("/readyz", "", method);
        CHECK(response.status == 405);
        CHECK(response.allow_get_head);
        CHECK_THAT(response.body, Catch::StartsWith(std::string("method ") + method + " not allowed"));
    }
}

TEST_CASE("unknown paths and bad escapes are 4xx with a hint", "[http_handler]") {
    Pod pod;
    Response missing = pod.get("/healthz");
    CHECK(missing.status == 404);
    CHECK_THAT(missing.body, Catch::Contains("/startupz /livez /readyz"));
    CHECK(pod.get("/").status == 404);
    CHECK(pod.get("*").status == 400);
    CHECK(pod.get("http://example.com/readyz").status == 400);
    CHECK(pod.get("/readyz?exclude=%zz").status == 400);
    CHECK(pod.get("/readyz/%zz").status == 400);
    Response control = pod.get("/\x01\x02?");
    CHECK(control.status == 404);
    CHECK(control.body.find('\x01') == std::string::npos);
}

TEST_CASE("draining: /readyz 503 at once, /livez still 200", "[http_handler]") {
    Pod pod;
    pod.draining = true;
    CHECK(pod.get("/worker/readyz").status == 503);
    CHECK_THAT(pod.get("/worker/readyz").body, Catch::StartsWith("[-]shutdown failed: draining after SIGTERM\n"));
    CHECK(pod.get("/livez").status == 200);
    CHECK(pod.get("/worker/livez").status == 200);
}

TEST_CASE("the response head: status line, content headers, connection", "[http_handler]") {
    Response ok{200, k_content_text, "ok", false};
    CHECK(response_head(ok, true, 11) ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nCache-Control: no-store\r\n\r\n");
    CHECK(response_head(ok, false, 11) ==
          "HTTP/1.1 200 OK\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 2\r\nCache-Control: no-store\r\n"
          "Connection: close\r\n\r\n");
    CHECK_THAT(response_head(ok, true, 10), Catch::EndsWith("Connection: keep-alive\r\n\r\n"));
    Response not_allowed{405, k_content_text, "method POST not allowed\n", true};
    CHECK_THAT(response_head(not_allowed, false, 11),
               Catch::StartsWith("HTTP/1.1 405 Method Not Allowed\r\n") && Catch::Contains("\r\nAllow: GET, HEAD\r\n") &&
                   Catch::Contains("Content-Length: 24\r\n"));
    CHECK_THAT(response_head(Response{503, k_content_json, "{}", false}, true, 11),
               Catch::StartsWith("HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\n"));
    CHECK_THAT(response_head(Response{431, k_content_text, "", false}, false, 11),
               Catch::StartsWith("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
}
