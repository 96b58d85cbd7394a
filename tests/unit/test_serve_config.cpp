#include <catch2/catch.hpp>
#include <cstdlib>
#include <fstream>
#include <unistd.h>

#include "probe/serve_config.hpp"

using namespace healthgate;
using namespace healthgate::probe;
using namespace std::chrono_literals;

namespace {

LocalIdentity pod() {
    LocalIdentity identity;
    identity.addresses = {"10.1.2.3", "fd00::7"};
    identity.hostnames = {"web-7d9c8"};
    return identity;
}

Expected<ServeConfig> parse(const std::string& text, const LocalIdentity& identity = pod()) {
    return load_serve_config_yaml("serve.yaml", YAML::Load(text), identity);
}

std::string error_of(const std::string& text) {
    auto config = parse(text);
    REQUIRE_FALSE(config.ok());
    return config.error();
}

const CheckConfig& check_named(const ServeConfig& config, const std::string& name, std::size_t group = 0) {
    for (const CheckConfig& check : config.groups.at(group).checks) {
        if (check.name == name) return check;
    }
    FAIL("no check " << name);
    throw std::logic_error("unreachable");
}

Target target(const std::string& url) {
    auto parsed = parse_target(url);
    REQUIRE(parsed.ok());
    return *parsed;
}

}  // namespace

TEST_CASE("the documented example loads, with defaults resolved per check", "[serve_config]") {
    auto config = parse(R"(
listen: 0.0.0.0:9090
drain: 3s
request_timeout: 2s
log_format: json
defaults: {interval: 5s, timeout: 2s, failure_threshold: 4, success_threshold: 1}
checks:
  - name: app
    target: http://127.0.0.1:8080/healthz
    probes: [startup, liveness]
  - name: db
    target: tcp://postgres:5432
    probes: [readiness]
    failure_threshold: 3
    success_threshold: 2
  - name: cache
    target: {url: "tcp://redis:6379", timeout: 300ms}
    probes: [liveness]
    allow_remote_liveness: true
  - target: unix:///run/app.sock
containers:
  worker:
    checks:
      - {name: queue, target: "tcp://127.0.0.1:9000", probes: [liveness, readiness], interval: 1s, timeout: 1s}
)");
    REQUIRE(config.ok());
    CHECK(config->listen.host == "0.0.0.0");
    CHECK(config->listen.port == 9090);
    CHECK(config->drain == 3s);
    CHECK(config->request_timeout == 2s);
    CHECK(config->log_format == log::Format::json);
    REQUIRE(config->groups.size() == 2);
    CHECK(config->groups[1].name == "worker");
    CHECK(config->check_count() == 5);

    const CheckConfig& app = check_named(*config, "app");
    CHECK(app.in(ProbeKind::startup));
    CHECK(app.in(ProbeKind::liveness));
    CHECK_FALSE(app.in(ProbeKind::readiness));
    CHECK(app.policy.interval == 5s);
    CHECK(app.policy.timeout == 2s);
    CHECK(app.policy.failure_threshold == 4);
    CHECK(app.origin == "serve.yaml:8");

    const CheckConfig& db = check_named(*config, "db");
    CHECK(db.policy.failure_threshold == 3);
    CHECK(db.policy.success_threshold == 2);

    // The target's own timeout= is the check's timeout when the check sets none.
    CHECK(check_named(*config, "cache").policy.timeout == 300ms);
    CHECK(check_named(*config, "cache").allow_remote_liveness);

    // No name: derived from the target; no probes: readiness.
    const CheckConfig& sock = check_named(*config, "unix:/run/app.sock");
    CHECK(sock.in(ProbeKind::readiness));
    CHECK_FALSE(sock.in(ProbeKind::liveness));

    const CheckConfig& queue = check_named(*config, "queue", 1);
    CHECK(queue.policy.interval == 1s);
    CHECK(queue.in(ProbeKind::liveness));
}

TEST_CASE("liveness on a remote dependency is rejected at load, with the reason and the way out", "[serve_config]") {
    std::string error = error_of(R"(
checks:
  - name: app
    target: http://127.0.0.1:8080/healthz
    probes: [liveness]
  - name: cache
    target: tcp://redis:6379
    probes: [liveness, readiness]
)");
    CHECK_THAT(error, Catch::StartsWith("serve.yaml:6: check \"cache\": liveness depends on redis:6379, which is not this pod"));
    CHECK_THAT(error, Catch::Contains("restarts the container"));
    CHECK_THAT(error, Catch::Contains("every replica"));
    CHECK_THAT(error, Catch::Contains("allow_remote_liveness: true"));

    CHECK_THAT(error_of("checks:\n  - {name: d, target: 'dns://db', probes: [liveness]}\n"),
               Catch::Contains("a DNS lookup of db through the cluster DNS"));
    CHECK_THAT(error_of("checks:\n  - {name: x, target: 'http://10.9.9.9:80/', probes: [liveness]}\n"),
               Catch::Contains("10.9.9.9:80, which is not this pod"));
    // Readiness on the same targets is what readiness is for.
    CHECK(parse("checks:\n  - {name: c, target: 'tcp://redis:6379', probes: [readiness]}\n").ok());
    CHECK(parse("checks:\n  - {name: c, target: 'tcp://redis:6379', probes: [liveness], allow_remote_liveness: true}\n").ok());
}

TEST_CASE("local means loopback, localhost, sockets, files and the pod's own addresses and name", "[serve_config]") {
    const LocalIdentity identity = pod();
    for (const char* url : {"tcp://127.0.0.1:80", "tcp://127.3.4.5:80", "http://localhost:8080/", "http://LOCALHOST.:8080/",
                            "tcp://app.localhost:80", "tcp://[::1]:80", "tcp://0.0.0.0:80", "tcp://[::ffff:127.0.0.1]:80",
                            "unix:///run/app.sock", "file:///tmp/heartbeat", "tcp://10.1.2.3:8080",
                            "https://[fd00:0:0::7]:8443/", "http://web-7d9c8:8080/healthz", "http://WEB-7d9c8:8080/"}) {
        INFO(url);
        CHECK(is_local_target(target(url), identity));
    }
    for (const char* url : {"tcp://10.1.2.4:80", "tcp://postgres:5432", "tcp://web-7d9c8.other:80", "dns://localhost",
                            "https://example.com/", "tcp://[fd00::8]:80", "tcp://128.0.0.1:80"}) {
        INFO(url);
        CHECK_FALSE(is_local_target(target(url), identity));
    }
}

TEST_CASE("the local identity comes from POD_IP, POD_IPS and HOSTNAME", "[serve_config]") {
    ::setenv("POD_IP", "10.244.1.17", 1);
    ::setenv("POD_IPS", "10.244.1.17, fd00:10:244::11", 1);
    ::setenv("HOSTNAME", "api-5f6b7", 1);
    LocalIdentity identity = LocalIdentity::from_environment();
    ::unsetenv("POD_IP");
    ::unsetenv("POD_IPS");
    CHECK(is_local_target(target("tcp://10.244.1.17:80"), identity));
    CHECK(is_local_target(target("tcp://[fd00:10:244::11]:80"), identity));
    CHECK(is_local_target(target("http://api-5f6b7:8080/"), identity));
    CHECK_FALSE(is_local_target(target("tcp://10.244.1.18:80"), identity));
}

TEST_CASE("config errors name file:line and the problem", "[serve_config]") {
    CHECK(error_of("listen: 0.0.0.0:8081\nintervall: 5s\n") ==
          "serve.yaml:2: unknown key \"intervall\" (use listen, drain, request_timeout, defaults, checks, containers, "
          "log_format, log_level, resolv_conf)");
    CHECK_THAT(error_of("targets: [tcp://db:5432]\n"), Catch::Contains("targets: belongs to a `healthgate wait` config"));
    CHECK_THAT(error_of("checks:\n  - name: db\n    target: tcp://db:5432\n    interval: 5\n"),
               Catch::StartsWith("serve.yaml:4: interval: ") && Catch::Contains("missing unit"));
    CHECK_THAT(error_of("checks:\n  - name: db\n    target: tcp://db:5432\n    failure_threshold: 0\n"),
               Catch::StartsWith("serve.yaml:4: failure_threshold: expected a whole number from 1 to 1000"));
    CHECK_THAT(error_of("checks:\n  - name: db\n    target: tcp://db:5432\n    probes: [readyness]\n"),
               Catch::StartsWith("serve.yaml:4: probes: unknown probe \"readyness\""));
    CHECK_THAT(error_of("checks:\n  - name: db\n    target: tcp://db\n"), Catch::StartsWith("serve.yaml:3: ") &&
                                                                           Catch::Contains("missing port"));
    CHECK_THAT(error_of("checks:\n  - name: db\n    targt: tcp://db:1\n"), Catch::StartsWith("serve.yaml:2: check has no target:"));
    CHECK_THAT(error_of("checks:\n  - name: db\n    target: tcp://db:1\n    intervl: 1s\n"),
               Catch::StartsWith("serve.yaml:4: unknown key \"intervl\" in a check"));
    CHECK_THAT(error_of("checks:\n  - name: 'd b'\n    target: tcp://db:1\n"),
               Catch::StartsWith("serve.yaml:2: name: invalid check name \"d b\""));
    CHECK_THAT(error_of("checks: tcp://db:1\n"), Catch::StartsWith("serve.yaml:1: checks: expected a list"));
    CHECK_THAT(error_of("checks:\n  - tcp://db:1\n"), Catch::StartsWith("serve.yaml:2: a check is a map"));
    CHECK_THAT(error_of("listen: 8081\nchecks:\n  - {target: 'tcp://db:1'}\n"),
               Catch::StartsWith("serve.yaml:1: listen: invalid listen address \"8081\": missing port"));
    CHECK_THAT(error_of("defaults: {intervl: 1s}\nchecks:\n  - {target: 'tcp://db:1'}\n"),
               Catch::StartsWith("serve.yaml:1: unknown key defaults.intervl"));
    CHECK_THAT(error_of("request_timeout: 0\nchecks:\n  - {target: 'tcp://db:1'}\n"),
               Catch::StartsWith("serve.yaml:1: request_timeout: must be positive"));
    CHECK_THAT(error_of("drain: soon\nchecks:\n  - {target: 'tcp://db:1'}\n"), Catch::StartsWith("serve.yaml:1: drain: "));
}

TEST_CASE("config validation: overlap, unique names, containers, something to check", "[serve_config]") {
    CHECK_THAT(error_of("checks:\n  - {name: db, target: 'tcp://db:1', interval: 1s, timeout: 2s}\n"),
               Catch::StartsWith("serve.yaml:2: check \"db\": timeout 2.0s is longer than interval 1.0s"));
    CHECK_THAT(error_of("defaults: {timeout: 20s}\nchecks:\n  - {name: db, target: 'tcp://db:1'}\n"),
               Catch::Contains("timeout 20.0s is longer than interval 10.0s"));
    CHECK_THAT(error_of("checks:\n  - {name: db, target: 'tcp://db:1'}\n  - {name: db, target: 'tcp://db:2'}\n"),
               Catch::StartsWith("serve.yaml:3: check name \"db\" is already used at serve.yaml:2"));
    // The same name in two containers is fine: each has its own endpoints.
    CHECK(parse("containers:\n  a: {checks: [{name: db, target: 'tcp://db:1'}]}\n  b: {checks: [{name: db, target: 'tcp://db:1'}]}\n").ok());
    CHECK_THAT(error_of("containers:\n  Web: {checks: [{name: db, target: 'tcp://db:1'}]}\n"),
               Catch::StartsWith("serve.yaml:2: containers: invalid container name \"Web\""));
    CHECK_THAT(error_of("containers:\n  readyz: {checks: [{name: db, target: 'tcp://db:1'}]}\n"),
               Catch::Contains("not startupz, livez, readyz or metrics"));
    CHECK_THAT(error_of("containers:\n  web: {probes: []}\n"), Catch::StartsWith("serve.yaml:2: unknown key containers.web.probes"));
    CHECK_THAT(error_of("listen: ':8081'\n"), Catch::StartsWith("no checks configured"));
}

TEST_CASE("listen addresses", "[serve_config]") {
    auto any = parse_listen_address(":8081");
    REQUIRE(any.ok());
    CHECK(any->host.empty());
    CHECK(any->port == 8081);
    auto v6 = parse_listen_address("[::1]:9000");
    REQUIRE(v6.ok());
    CHECK(v6->host == "::1");
    CHECK(parse_listen_address("127.0.0.1:0")->port == 0);
    CHECK(parse_listen_address("localhost:80")->host == "127.0.0.1");
    for (const char* bad : {"8081", "::1:80", "[::1]", "host.example:80", ":99999", ":80a", ":", "1.2.3.4:"}) {
        INFO(bad);
        CHECK_FALSE(parse_listen_address(bad).ok());
    }
}

TEST_CASE("flags: probe targets become checks, one per target, in every probe named", "[serve_config]") {
    auto config = load_serve_config({"--listen", "127.0.0.1:18081", "--readiness", "tcp://db:5432", "--liveness",
                                     "http://127.0.0.1:8080/healthz", "--startup", "http://127.0.0.1:8080/healthz",
                                     "--interval=2s", "--timeout", "500ms", "--failure-threshold", "2", "--drain", "0"},
                                    pod());
    REQUIRE(config.ok());
    CHECK(config->listen.port == 18081);
    CHECK(config->drain == 0ms);
    REQUIRE(config->groups[0].checks.size() == 2);
    const CheckConfig& db = check_named(*config, "tcp:db:5432");
    CHECK(db.in(ProbeKind::readiness));
    CHECK(db.policy.interval == 2s);
    CHECK(db.policy.timeout == 500ms);
    CHECK(db.policy.failure_threshold == 2);
    const CheckConfig& app = check_named(*config, "http:127.0.0.1:8080/healthz");
    CHECK(app.in(ProbeKind::liveness));
    CHECK(app.in(ProbeKind::startup));
    CHECK_FALSE(app.in(ProbeKind::readiness));
}

TEST_CASE("flags: remote liveness needs --liveness-allow-remote", "[serve_config]") {
    auto rejected = load_serve_config({"--liveness", "tcp://redis:6379"}, pod());
    REQUIRE_FALSE(rejected.ok());
    CHECK_THAT(rejected.error(), Catch::StartsWith("serve: --liveness: check \"tcp:redis:6379\": liveness depends on redis:6379"));
    CHECK_THAT(rejected.error(), Catch::Contains("--liveness-allow-remote"));
    CHECK(load_serve_config({"--liveness-allow-remote", "tcp://redis:6379"}, pod()).ok());
}

TEST_CASE("flags: errors and help", "[serve_config]") {
    CHECK_THAT(load_serve_config({}, pod()).error(), Catch::StartsWith("serve: no checks configured"));
    CHECK_THAT(load_serve_config({"--readiness", "tcp://db"}, pod()).error(),
               Catch::StartsWith("serve: --readiness: invalid target \"tcp://db\""));
    CHECK_THAT(load_serve_config({"--readiness", "tcp://db:1", "--timeout", "0"}, pod()).error(),
               Catch::StartsWith("serve: --timeout: must be positive"));
    CHECK_THAT(load_serve_config({"--readiness", "tcp://db:1", "--success-threshold", "x"}, pod()).error(),
               Catch::StartsWith("serve: --success-threshold: expected a whole number"));
    CHECK_THAT(load_serve_config({"tcp://db:1"}, pod()).error(), Catch::StartsWith("serve: unexpected argument \"tcp://db:1\""));
    CHECK_THAT(load_serve_config({"--nope"}, pod()).error(), Catch::StartsWith("serve: unknown flag --nope"));
    CHECK(load_serve_config({"--help"}, pod())->help);
}

TEST_CASE("env: several targets in one variable; flags win over env, env over the file", "[serve_config]") {
    char path[] = "/tmp/healthgate-serve-config-XXXXXX";
    int fd = ::mkstemp(path);
    REQUIRE(fd >= 0);
    ::close(fd);
    std::ofstream(path) << "listen: 127.0.0.1:1000\ndrain: 1s\nchecks:\n  - {name: file-check, target: 'tcp://127.0.0.1:1'}\n";
    ::setenv("HEALTHGATE_READINESS", "tcp://a:1  tcp://b:2\n", 1);
    ::setenv("HEALTHGATE_LISTEN", "127.0.0.1:2000", 1);
    ::setenv("HEALTHGATE_DRAIN", "2s", 1);
    auto config = load_serve_config({"--config", path, "--drain", "3s"}, pod());
    ::unsetenv("HEALTHGATE_READINESS");
    ::unsetenv("HEALTHGATE_LISTEN");
    ::unsetenv("HEALTHGATE_DRAIN");
    ::unlink(path);
    REQUIRE(config.ok());
    CHECK(config->listen.port == 2000);
    CHECK(config->drain == 3s);
    CHECK(config->groups[0].checks.size() == 3);
    check_named(*config, "file-check");
    check_named(*config, "tcp:a:1");
    check_named(*config, "tcp:b:2");
}

TEST_CASE("a missing config file is named", "[serve_config]") {
    auto config = load_serve_config_file("/nonexistent/serve.yaml", pod());
    REQUIRE_FALSE(config.ok());
    CHECK_THAT(config.error(), Catch::StartsWith("/nonexistent/serve.yaml: cannot open config file"));
}

TEST_CASE("probe kind names", "[serve_config]") {
    CHECK(probe_kind_name(ProbeKind::startup) == "startup");
    CHECK(probe_endpoint_name(ProbeKind::liveness) == "livez");
    CHECK(probe_endpoint_name(ProbeKind::readiness) == "readyz");
}

TEST_CASE("serve: --config-yaml takes the config file's content inline; not together with --config") {
    auto config = load_serve_config(
        {"--config-yaml", "listen: \":9000\"\ncontainers:\n  api:\n    checks:\n      - {target: \"tcp://127.0.0.1:80\", probes: [liveness]}\n"},
        pod());
    REQUIRE(config);
    CHECK(config->listen.port == 9000);
    REQUIRE(config->groups.size() == 2);
    CHECK(config->groups[1].name == "api");
    auto bad = load_serve_config({"--config-yaml", "checks: [\n"}, pod());
    REQUIRE_FALSE(bad);
    CHECK(bad.error().starts_with("serve: --config-yaml:"));
    auto both = load_serve_config({"--config", "x.yaml", "--config-yaml", "checks: []"}, pod());
    REQUIRE_FALSE(both);
    CHECK(both.error() == "serve: give --config FILE or --config-yaml TEXT, not both");
}

TEST_CASE("serve config: a document that is not a map is an error, not an exception (found by fuzz_serve_config)") {
    auto config = parse("- {name: a, target: \"tcp://127.0.0.1:1\"}\n");
    REQUIRE_FALSE(config);
    CHECK_THAT(config.error(), Catch::Contains("expected a map of settings at the top level"));
    CHECK_FALSE(parse("just a string\n"));
}
