#include "probe/serve_config.hpp"

#include <arpa/inet.h>
#include <cstdlib>
#include <fmt/format.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <unistd.h>

#include "common/flags.hpp"
#include "common/text.hpp"
#include "common/yaml_config.hpp"

namespace healthgate::probe {

const char* const k_serve_help = R"(Usage: healthgate serve [--config FILE] [FLAGS]

Serves the probes of a pod from background checks, with the semantics the
kubelet expects: startup latches, liveness covers only this pod's own process,
readiness covers dependencies with hysteresis, and SIGTERM drains readiness.
Run it in the app container or as a native sidecar; point the pod's probes at it.

Endpoints (GET or HEAD; other methods get 405):
  /startupz /livez /readyz     200 "ok" or 503 with one [+]/[-] line per check
     ?verbose                  list every check, also when all pass
     ?exclude=NAME             leave a check out (repeatable)
     ?format=json              JSON (also with "Accept: application/json"):
                               status, reason, since, consecutive results, latency
  /readyz/NAME                 one check alone (also /livez/NAME, /startupz/NAME)
  /CONTAINER/readyz ...        the checks of one container (containers: in the config)
  /metrics                     Prometheus text format; never runs a check

Semantics:
  startup    passes once every startup check has passed once, then stays passed.
  liveness   fails when a liveness check is down (failure_threshold consecutive
             failures) or stale; not judged before startup passed. Only local
             targets are accepted: loopback, localhost, unix sockets, files, the
             pod's own IP (POD_IP, POD_IPS, interfaces) and name (HOSTNAME);
             a remote one needs allow_remote_liveness: true on that check.
  readiness  passes when every readiness check is up (success_threshold
             consecutive successes to come up, failure_threshold consecutive
             failures to go down) and startup passed.
  stale      a check with no result for interval + timeout counts as failed.
  SIGTERM    readiness turns 503 at once, liveness keeps answering, and after
             the drain period serve exits 0. A second SIGTERM/SIGINT exits at once.

Config file (YAML):
  listen: ":8081"                 # [host]:port; ":8081" = every address (IPv6 and IPv4)
  drain: 10s                      # readiness 503 for this long after SIGTERM
  request_timeout: 10s            # idle keep-alive between requests, a body, writing an answer
                                  # (a new connection's first bytes must come within 2s, its
                                  # headers within 3s of those, whatever this says)
  log_format: text                # or json
  log_level: info                 # debug|info|warn|error|off
  resolv_conf: /etc/resolv.conf
  defaults: {interval: 10s, timeout: 1s, failure_threshold: 3, success_threshold: 1}
  checks:
    - name: app                   # [A-Za-z0-9._:/@~+-]; default derived from the target
      target: http://127.0.0.1:8080/healthz   # or {url: ..., status: 200, header: [...]}
      probes: [startup, liveness] # any of startup, liveness, readiness (default readiness)
    - name: db
      target: tcp://postgres:5432
      probes: [readiness]
      interval: 5s                # each check may override every default
      failure_threshold: 3
      success_threshold: 2
    - name: cache
      target: tcp://redis:6379
      probes: [liveness]
      allow_remote_liveness: true # explicit opt-in: a redis blip restarts this container
  containers:                     # several containers of one pod: /worker/readyz ...
    worker:
      checks:
        - {name: queue, target: "tcp://127.0.0.1:9000", probes: [liveness, readiness]}

Targets: the same as `healthgate wait`, with '#' options (the kinds and their
options: healthgate wait --help). A target's timeout= option is the check's
timeout unless the check sets timeout:.

Flags (environment variable in brackets); later sources win: file < env < flags:
  --config FILE                 YAML config as above                [HEALTHGATE_CONFIG]
  --config-yaml TEXT            the same YAML given inline (no file) [HEALTHGATE_CONFIG_YAML]
  --listen [HOST]:PORT          (default :8081)                     [HEALTHGATE_LISTEN]
  --drain DUR                   (default 10s)                       [HEALTHGATE_DRAIN]
  --request-timeout DUR         keep-alive idle, body, answer (10s) [HEALTHGATE_REQUEST_TIMEOUT]
  --startup TARGET              a startup check (repeatable)        [HEALTHGATE_STARTUP]
  --liveness TARGET             a liveness check, local only        [HEALTHGATE_LIVENESS]
  --liveness-allow-remote TARGET  a liveness check on a remote target, accepted
                                                                    [HEALTHGATE_LIVENESS_ALLOW_REMOTE]
  --readiness TARGET            a readiness check (repeatable)      [HEALTHGATE_READINESS]
  --interval DUR                default interval (10s)              [HEALTHGATE_CHECK_INTERVAL]
  --timeout DUR                 default timeout (1s)                [HEALTHGATE_CHECK_TIMEOUT]
  --failure-threshold N         default (3)                         [HEALTHGATE_FAILURE_THRESHOLD]
  --success-threshold N         default (1)                         [HEALTHGATE_SUCCESS_THRESHOLD]
  --resolv-conf PATH            (default /etc/resolv.conf)          [HEALTHGATE_RESOLV_CONF]
  --socket PATH                 also answer `healthgate probe --from unix://PATH ENDPOINT`
                                on this unix socket (cached results)  [HEALTHGATE_SOCKET]
  --histories DIR               export DIR/history-NAME/healthgate-runs (run --history)
                                on /metrics                           [HEALTHGATE_HISTORIES]
  --log-format text|json        (default text)                      [HEALTHGATE_LOG_FORMAT]
  --log-level LEVEL             (default info)                      [HEALTHGATE_LOG_LEVEL]
  Environment variables holding targets take several, separated by spaces.
  The same target given to several probe flags is one check in several probes.

Exit codes:
  0  drained after SIGTERM (or SIGINT)
  2  usage or config error (names file:line), or the listen address cannot be bound
Validate a config without serving: healthgate config check FILE
)";

const char* const k_config_help = R"(Usage: healthgate config check FILE

Validates a `healthgate serve` config file without serving: YAML syntax, keys,
targets, durations and thresholds, unique names, and the liveness rule (no
remote dependency under liveness without allow_remote_liveness: true).
Prints a one-line summary and exits 0 when valid; prints "FILE:LINE: problem"
and exits 2 otherwise.
)";

namespace {

constexpr const char* k_check_keys[] = {"name",     "target",            "probes",
                                        "interval", "timeout",           "failure_threshold",
                                        "success_threshold", "allow_remote_liveness"};
constexpr int k_max_threshold = 1000;

std::string join(const auto& items) {
    std::string out;
    for (std::string_view item : items) {
        if (!out.empty()) out += ", ";
        out += item;
    }
    return out;
}

bool valid_check_name(std::string_view name) {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name) {
        if (!(std::isalnum(static_cast<unsigned char>(c)) || std::string_view("._-:/@~+").find(c) != std::string_view::npos)) {
            return false;
        }
    }
    return true;
}

// A DNS label, like a Kubernetes container name, and not one of our endpoints.
bool valid_group_name(std::string_view name) {
    if (name.empty() || name.size() > 63) return false;
    for (char c : name) {
        if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
            return false;
        }
    }
    if (name.front() == '-' || name.back() == '-') return false;
    return name != "startupz" && name != "livez" && name != "readyz" && name != "metrics";
}

// "tcp://db:5432" -> "tcp:db:5432": usable in a path, a query and a label.
std::string derived_name(const Target& target) {
    auto sep = target.name.find("://");
    if (sep == std::string::npos) return target.name;  // set with name=
    return target.name.substr(0, sep) + ":" + target.name.substr(sep + 3);
}

std::optional<std::string> canonical_ip(std::string_view text) {
    std::string s(text);
    if (auto percent = s.find('%'); percent != std::string::npos) s.resize(percent);  // fe80::1%eth0
    char out[INET6_ADDRSTRLEN] = {};
    in_addr v4{};
    in6_addr v6{};
    if (::inet_pton(AF_INET, s.c_str(), &v4) == 1) return std::string(::inet_ntop(AF_INET, &v4, out, sizeof out));
    if (::inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
        if (IN6_IS_ADDR_V4MAPPED(&v6)) {
            std::memcpy(&v4, &v6.s6_addr[12], 4);
            return std::string(::inet_ntop(AF_INET, &v4, out, sizeof out));
        }
        return std::string(::inet_ntop(AF_INET6, &v6, out, sizeof out));
    }
    return std::nullopt;
}

bool is_loopback_or_any(const std::string& canonical) {
    in_addr v4{};
    if (::inet_pton(AF_INET, canonical.c_str(), &v4) == 1) {
        std::uint32_t host = ntohl(v4.s_addr);
        return (host >> 24) == 127 || host == 0;
    }
    return canonical == "::1" || canonical == "::";
}

std::optional<std::string> parse_threshold(std::string_view text, int& out) {
    int value = 0;
    std::size_t i = 0;
    for (; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])) && value <= k_max_threshold; ++i) {
        value = value * 10 + (text[i] - '0');
    }
    if (text.empty() || i != text.size() || value < 1 || value > k_max_threshold) {
        return fmt::format("expected a whole number from 1 to {}, got \"{}\"", k_max_threshold, text);
    }
    out = value;
    return std::nullopt;
}

std::optional<std::string> parse_positive_duration(std::string_view text, Duration& out) {
    auto d = parse_duration(text);
    if (!d) return d.error();
    if (d->count() <= 0) return fmt::format("must be positive, got \"{}\"", text);
    out = *d;
    return std::nullopt;
}

std::optional<ProbeKind> parse_probe_kind(std::string_view text) {
    for (ProbeKind kind : k_probe_kinds) {
        if (text == probe_kind_name(kind)) return kind;
    }
    return std::nullopt;
}

// ---- YAML -------------------------------------------------------------------

std::optional<std::string> yaml_policy_key(const std::string& file, const std::string& key, const YAML::Node& value,
                                           std::optional<Duration>& interval, std::optional<Duration>& timeout,
                                           std::optional<int>& failure_threshold, std::optional<int>& success_threshold) {
    auto text = yaml_string(file, value, key);
    if (!text) return text.error();
    std::optional<std::string> problem;
    if (key == "interval" || key == "timeout") {
        Duration d{0};
        problem = parse_positive_duration(*text, d);
        if (!problem) (key == "interval" ? interval : timeout) = d;
    } else {
        int n = 0;
        problem = parse_threshold(*text, n);
        if (!problem) (key == "failure_threshold" ? failure_threshold : success_threshold) = n;
    }
    if (problem) return fmt::format("{}{}: {}", yaml_where(file, value), key, *problem);
    return std::nullopt;
}

std::optional<std::string> yaml_defaults(const std::string& file, const YAML::Node& node, CheckPolicy& defaults) {
    if (!node.IsMap()) return yaml_where(file, node) + "defaults: expected a map (interval, timeout, failure_threshold, success_threshold)";
    for (const auto& entry : node) {
        std::string key = entry.first.Scalar();
        if (key != "interval" && key != "timeout" && key != "failure_threshold" && key != "success_threshold") {
            return fmt::format("{}unknown key defaults.{} (use interval, timeout, failure_threshold, success_threshold)",
                               yaml_where(file, entry.first), key);
        }
        std::optional<Duration> interval, timeout;
        std::optional<int> failure, success;
        if (auto problem = yaml_policy_key(file, key, entry.second, interval, timeout, failure, success)) return problem;
        if (interval) defaults.interval = *interval;
        if (timeout) defaults.timeout = *timeout;
        if (failure) defaults.failure_threshold = *failure;
        if (success) defaults.success_threshold = *success;
    }
    return std::nullopt;
}

Expected<CheckConfig> yaml_check(const std::string& file, const YAML::Node& node) {
    if (!node.IsMap()) {
        return make_error(yaml_where(file, node) + "a check is a map with name:, target: and probes:");
    }
    CheckConfig check;
    check.origin = yaml_where(file, node);
    check.origin.resize(check.origin.size() - 2);  // without ": "
    const YAML::Node target = node["target"];
    if (!target) return make_error(yaml_where(file, node) + "check has no target:");
    auto parsed = yaml_target(file, target);
    if (!parsed) return make_error(parsed.error());
    check.target = std::move(*parsed);
    check.name = derived_name(check.target);
    bool probes_given = false;
    for (const auto& entry : node) {
        std::string key = entry.first.Scalar();
        const YAML::Node& value = entry.second;
        if (std::find(std::begin(k_check_keys), std::end(k_check_keys), key) == std::end(k_check_keys)) {
            return make_error(fmt::format("{}unknown key \"{}\" in a check (use {})", yaml_where(file, entry.first), key,
                                          join(k_check_keys)));
        }
        if (key == "target") continue;
        if (key == "name") {
            auto name = yaml_string(file, value, key);
            if (!name) return make_error(name.error());
            if (!valid_check_name(*name)) {
                return make_error(fmt::format("{}name: invalid check name \"{}\" (letters, digits and ._-:/@~+ only)",
                                              yaml_where(file, value), *name));
            }
            check.name = *name;
        } else if (key == "probes") {
            probes_given = true;
            std::vector<YAML::Node> items;
            if (value.IsSequence()) {
                for (const auto& item : value) items.push_back(item);
            } else {
                items.push_back(value);
            }
            if (items.empty()) return make_error(yaml_where(file, value) + "probes: empty list (use startup, liveness, readiness)");
            for (const YAML::Node& item : items) {
                auto text = yaml_string(file, item, "probes");
                if (!text) return make_error(text.error());
                auto kind = parse_probe_kind(*text);
                if (!kind) {
                    return make_error(fmt::format("{}probes: unknown probe \"{}\" (use startup, liveness, readiness)",
                                                  yaml_where(file, item), *text));
                }
                check.probes[static_cast<int>(*kind)] = true;
            }
        } else if (key == "allow_remote_liveness") {
            auto allow = yaml_bool(file, value, key);
            if (!allow) return make_error(allow.error());
            check.allow_remote_liveness = *allow;
        } else if (auto problem = yaml_policy_key(file, key, value, check.interval, check.timeout,
                                                  check.failure_threshold, check.success_threshold)) {
            return make_error(*problem);
        }
    }
    if (!probes_given) check.probes[static_cast<int>(ProbeKind::readiness)] = true;
    if (!valid_check_name(check.name)) {
        return make_error(fmt::format("{}cannot derive a check name from \"{}\": set name:", yaml_where(file, node),
                                      check.target.name));
    }
    return check;
}

std::optional<std::string> yaml_checks(const std::string& file, const YAML::Node& node, CheckGroup& group) {
    if (!node.IsSequence()) return yaml_where(file, node) + "checks: expected a list of checks";
    for (const auto& item : node) {
        auto check = yaml_check(file, item);
        if (!check) return check.error();
        group.checks.push_back(std::move(*check));
    }
    return std::nullopt;
}

std::optional<std::string> yaml_containers(const std::string& file, const YAML::Node& node, ServeConfig& config) {
    if (!node.IsMap()) return yaml_where(file, node) + "containers: expected a map of container name to {checks: [...]}";
    for (const auto& entry : node) {
        std::string name = entry.first.Scalar();
        if (!valid_group_name(name)) {
            return fmt::format("{}containers: invalid container name \"{}\" (a DNS label: a-z, 0-9, '-'; not startupz, "
                               "livez, readyz or metrics)",
                               yaml_where(file, entry.first), name);
        }
        for (const CheckGroup& group : config.groups) {
            if (group.name == name) return fmt::format("{}containers: \"{}\" given twice", yaml_where(file, entry.first), name);
        }
        const YAML::Node& body = entry.second;
        if (!body.IsMap()) return fmt::format("{}containers.{}: expected a map with checks:", yaml_where(file, body), name);
        CheckGroup group{name, {}};
        for (const auto& sub : body) {
            std::string key = sub.first.Scalar();
            if (key != "checks") {
                return fmt::format("{}unknown key containers.{}.{} (use checks)", yaml_where(file, sub.first), name, key);
            }
            if (auto problem = yaml_checks(file, sub.second, group)) return problem;
        }
        config.groups.push_back(std::move(group));
    }
    return std::nullopt;
}

std::optional<std::string> apply_yaml(const std::string& file, const YAML::Node& root, ServeConfig& config) {
    // The file loader checks this too; a caller with its own node (a test, the
    // fuzz harness) must not reach a sequence's entries as map pairs.
    if (!root.IsMap()) return yaml_where(file, root) + "expected a map of settings at the top level";
    for (const auto& entry : root) {
        std::string key = entry.first.Scalar();
        const YAML::Node& value = entry.second;
        if (key == "checks") {
            if (auto problem = yaml_checks(file, value, config.groups[0])) return problem;
        } else if (key == "containers") {
            if (auto problem = yaml_containers(file, value, config)) return problem;
        } else if (key == "defaults") {
            if (auto problem = yaml_defaults(file, value, config.defaults)) return problem;
        } else if (key == "listen" || key == "drain" || key == "request_timeout" || key == "log_format" ||
                   key == "log_level" || key == "resolv_conf") {
            auto text = yaml_string(file, value, key);
            if (!text) return text.error();
            std::optional<std::string> problem;
            if (key == "listen") {
                auto listen = parse_listen_address(*text);
                if (listen) config.listen = *listen;
                else problem = listen.error();
            } else if (key == "drain") {
                auto d = parse_duration(*text);
                if (d) config.drain = *d;
                else problem = d.error();
            } else if (key == "request_timeout") {
                problem = parse_positive_duration(*text, config.request_timeout);
            } else if (key == "log_format") {
                auto f = log::parse_format(*text);
                if (f) config.log_format = *f;
                else problem = f.error();
            } else if (key == "log_level") {
                auto l = log::parse_level(*text);
                if (l) config.log_level = *l;
                else problem = l.error();
            } else {
                if (text->empty()) problem = "empty path";
                else config.resolv_conf = *text;
            }
            if (problem) return fmt::format("{}{}: {}", yaml_where(file, value), key, *problem);
        } else {
            return fmt::format("{}unknown key \"{}\" (use listen, drain, request_timeout, defaults, checks, containers, "
                               "log_format, log_level, resolv_conf){}",
                               yaml_where(file, entry.first), key,
                               key == "targets" ? "; targets: belongs to a `healthgate wait` config" : "");
        }
    }
    return std::nullopt;
}

// ---- validation -------------------------------------------------------------

std::string remote_liveness_problem(const CheckConfig& check) {
    std::string what = check.target.kind->locality == Locality::remote
                           ? fmt::format("a DNS lookup of {} through the cluster DNS", check.target.host)
                           : fmt::format("{}, which is not this pod", check.target.authority());
    return fmt::format(
        "{}: check \"{}\": liveness depends on {}. A failing liveness check restarts the container, which cannot fix "
        "a remote dependency, and every replica checking it restarts at the same time. Put it under readiness, or "
        "opt in with allow_remote_liveness: true on this check (flag: --liveness-allow-remote)",
        check.origin, check.name, what);
}

std::optional<std::string> finalize(ServeConfig& config, const LocalIdentity& identity) {
    for (CheckGroup& group : config.groups) {
        for (std::size_t i = 0; i < group.checks.size(); ++i) {
            CheckConfig& check = group.checks[i];
            check.policy.interval = check.interval.value_or(config.defaults.interval);
            check.policy.timeout = check.timeout ? *check.timeout : check.target.timeout.value_or(config.defaults.timeout);
            check.policy.failure_threshold = check.failure_threshold.value_or(config.defaults.failure_threshold);
            check.policy.success_threshold = check.success_threshold.value_or(config.defaults.success_threshold);
            if (check.policy.timeout > check.policy.interval) {
                return fmt::format("{}: check \"{}\": timeout {} is longer than interval {}: attempts would overlap "
                                   "(raise interval or lower timeout)",
                                   check.origin, check.name, format_duration(check.policy.timeout),
                                   format_duration(check.policy.interval));
            }
            for (std::size_t j = 0; j < i; ++j) {
                if (group.checks[j].name == check.name) {
                    return fmt::format("{}: check name \"{}\" is already used at {}{} (names must be unique{})",
                                       check.origin, check.name, group.checks[j].origin,
                                       group.name.empty() ? "" : " in container " + group.name,
                                       check.name.find(':') != std::string::npos ? "; set name:" : "");
                }
            }
            if (check.in(ProbeKind::liveness) && !check.allow_remote_liveness &&
                !is_local_target(check.target, identity)) {
                return remote_liveness_problem(check);
            }
        }
    }
    if (config.check_count() == 0) {
        return std::string("no checks configured: give --config FILE with checks:, or --startup/--liveness/--readiness TARGET "
                           "(see healthgate serve --help)");
    }
    return std::nullopt;
}

struct FlagTargets {
    ProbeKind kind;
    bool allow_remote;
};

std::optional<FlagTargets> target_flag(std::string_view name) {
    if (name == "startup") return FlagTargets{ProbeKind::startup, false};
    if (name == "liveness") return FlagTargets{ProbeKind::liveness, false};
    if (name == "liveness-allow-remote") return FlagTargets{ProbeKind::liveness, true};
    if (name == "readiness") return FlagTargets{ProbeKind::readiness, false};
    return std::nullopt;
}

// Targets of --readiness etc.: one per flag, several (space-separated) in env.
std::optional<std::string> add_flag_targets(const FlagValue& flag, FlagTargets what, CheckGroup& group) {
    std::string text = flag.value;
    for (char& c : text) {
        if (c == '\n' || c == '\t' || c == '\r') c = ' ';
    }
    bool any = false;
    for (std::string_view item : split(text, ' ')) {
        if (item.empty()) continue;
        any = true;
        auto target = parse_target(item);
        if (!target) return fmt::format("{}: {}", flag.origin, target.error());
        std::string name = derived_name(*target);
        if (!valid_check_name(name)) return fmt::format("{}: invalid check name \"{}\" (letters, digits and ._-:/@~+ only)", flag.origin, name);
        CheckConfig* existing = nullptr;
        for (CheckConfig& check : group.checks) {
            if (check.name == name && check.target.url == target->url) existing = &check;
        }
        if (!existing) {
            CheckConfig check;
            check.name = name;
            check.target = std::move(*target);
            check.origin = flag.origin;
            group.checks.push_back(std::move(check));
            existing = &group.checks.back();
        }
        existing->probes[static_cast<int>(what.kind)] = true;
        existing->allow_remote_liveness = existing->allow_remote_liveness || what.allow_remote;
    }
    if (!any) return fmt::format("{}: no target given", flag.origin);
    return std::nullopt;
}

std::vector<FlagSpec> serve_flags(ServeConfig& config) {
    auto duration_into = set_duration;
    auto threshold_into = [](int& out) {
        return [&out](std::string_view value) { return parse_threshold(value, out); };
    };
    auto no_apply = [](std::string_view) -> std::optional<std::string> { return std::nullopt; };  // handled by the loader
    std::vector<FlagSpec> specs = {
        {"config", true, "HEALTHGATE_CONFIG", no_apply},
        {"config-yaml", true, "HEALTHGATE_CONFIG_YAML", no_apply},
        {"listen", true, "HEALTHGATE_LISTEN",
         [&config](std::string_view value) -> std::optional<std::string> {
             auto listen = parse_listen_address(value);
             if (!listen) return listen.error();
             config.listen = *listen;
             return std::nullopt;
         }},
        {"drain", true, "HEALTHGATE_DRAIN", duration_into(config.drain, true)},
        {"request-timeout", true, "HEALTHGATE_REQUEST_TIMEOUT", duration_into(config.request_timeout, false)},
        {"startup", true, "HEALTHGATE_STARTUP", no_apply},
        {"liveness", true, "HEALTHGATE_LIVENESS", no_apply},
        {"liveness-allow-remote", true, "HEALTHGATE_LIVENESS_ALLOW_REMOTE", no_apply},
        {"readiness", true, "HEALTHGATE_READINESS", no_apply},
        {"interval", true, "HEALTHGATE_CHECK_INTERVAL", duration_into(config.defaults.interval, false)},
        {"timeout", true, "HEALTHGATE_CHECK_TIMEOUT", duration_into(config.defaults.timeout, false)},
        {"failure-threshold", true, "HEALTHGATE_FAILURE_THRESHOLD", threshold_into(config.defaults.failure_threshold)},
        {"success-threshold", true, "HEALTHGATE_SUCCESS_THRESHOLD", threshold_into(config.defaults.success_threshold)},
        {"resolv-conf", true, "HEALTHGATE_RESOLV_CONF", set_path(config.resolv_conf)},
        {"socket", true, "HEALTHGATE_SOCKET", set_path(config.socket)},
        {"histories", true, "HEALTHGATE_HISTORIES", set_path(config.histories)},
    };
    for (FlagSpec& spec : log_flags(config.log_format, config.log_level)) specs.push_back(std::move(spec));
    return specs;
}

ServeConfig empty_config() {
    ServeConfig config;
    config.groups.push_back(CheckGroup{"", {}});
    return config;
}

}  // namespace

std::string_view probe_kind_name(ProbeKind kind) {
    switch (kind) {
        case ProbeKind::startup: return "startup";
        case ProbeKind::liveness: return "liveness";
        case ProbeKind::readiness: return "readiness";
    }
    return "readiness";
}

std::string_view probe_endpoint_name(ProbeKind kind) {
    switch (kind) {
        case ProbeKind::startup: return "startupz";
        case ProbeKind::liveness: return "livez";
        case ProbeKind::readiness: return "readyz";
    }
    return "readyz";
}

std::size_t ServeConfig::check_count() const {
    std::size_t n = 0;
    for (const CheckGroup& group : groups) n += group.checks.size();
    return n;
}

Expected<ListenAddress> parse_listen_address(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return make_error(fmt::format("invalid listen address \"{}\": {} (use [HOST]:PORT, like :8081, "
                                      "0.0.0.0:8081 or [::1]:8081)",
                                      text, why));
    };
    ListenAddress listen;
    std::string_view host, port;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find("]:");
        if (close == std::string_view::npos) return bad("expected [IPv6]:PORT");
        host = text.substr(1, close - 1);
        port = text.substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string_view::npos) return bad("missing port");
        host = text.substr(0, colon);
        port = text.substr(colon + 1);
        if (host.find(':') != std::string_view::npos) return bad("IPv6 addresses go in brackets");
    }
    if (!host.empty()) {
        auto canonical = canonical_ip(host);
        if (!canonical && host != "localhost") return bad("the host must be an IP address");
        listen.host = host == "localhost" ? "127.0.0.1" : std::string(host);
    }
    int value = 0;
    if (port.empty() || port.size() > 5) return bad("invalid port");
    for (char c : port) {
        if (!std::isdigit(static_cast<unsigned char>(c))) return bad("invalid port");
        value = value * 10 + (c - '0');
    }
    if (value > 65535) return bad("port above 65535");
    listen.port = static_cast<std::uint16_t>(value);
    return listen;
}

LocalIdentity LocalIdentity::from_environment() {
    LocalIdentity identity;
    for (const char* name : {"POD_IP", "POD_IPS"}) {
        if (const char* value = std::getenv(name)) {
            for (std::string_view item : split(value, ',')) {
                if (auto ip = canonical_ip(trim(item))) identity.addresses.push_back(*ip);
            }
        }
    }
    if (const char* hostname = std::getenv("HOSTNAME"); hostname && *hostname) identity.hostnames.emplace_back(hostname);
    char buffer[256] = {};
    if (::gethostname(buffer, sizeof buffer - 1) == 0 && buffer[0]) identity.hostnames.emplace_back(buffer);
    ifaddrs* list = nullptr;
    if (::getifaddrs(&list) == 0) {
        for (ifaddrs* it = list; it; it = it->ifa_next) {
            if (!it->ifa_addr) continue;
            char out[INET6_ADDRSTRLEN] = {};
            if (it->ifa_addr->sa_family == AF_INET) {
                auto* sin = reinterpret_cast<sockaddr_in*>(it->ifa_addr);
                if (::inet_ntop(AF_INET, &sin->sin_addr, out, sizeof out)) identity.addresses.emplace_back(out);
            } else if (it->ifa_addr->sa_family == AF_INET6) {
                auto* sin6 = reinterpret_cast<sockaddr_in6*>(it->ifa_addr);
                if (::inet_ntop(AF_INET6, &sin6->sin6_addr, out, sizeof out)) identity.addresses.emplace_back(out);
            }
        }
        ::freeifaddrs(list);
    }
    return identity;
}

bool is_local_target(const Target& target, const LocalIdentity& identity) {
    switch (target.kind->locality) {
        case Locality::local: return true;
        case Locality::remote: return false;
        case Locality::host: break;
    }
    std::string host = to_lower(target.host);
    if (!host.empty() && host.back() == '.') host.pop_back();
    if (host == "localhost" || (host.size() > 10 && host.ends_with(".localhost"))) return true;
    if (auto ip = canonical_ip(host)) {
        if (is_loopback_or_any(*ip)) return true;
        for (const std::string& own : identity.addresses) {
            if (canonical_ip(own) == ip) return true;
        }
        return false;
    }
    for (const std::string& own : identity.hostnames) {
        if (to_lower(own) == host) return true;
    }
    return false;
}

Expected<ServeConfig> load_serve_config_yaml(const std::string& file, const YAML::Node& root,
                                             const LocalIdentity& identity) {
    ServeConfig config = empty_config();
    if (auto problem = apply_yaml(file, root, config)) return make_error(*problem);
    if (auto problem = finalize(config, identity)) return make_error(*problem);
    return config;
}

Expected<ServeConfig> load_serve_config_file(const std::string& path, const LocalIdentity& identity) {
    auto root = load_yaml_file(path);
    if (!root) return make_error(root.error());
    return load_serve_config_yaml(path, *root, identity);
}

Expected<ServeConfig> load_serve_config(const std::vector<std::string>& args, const LocalIdentity& identity) {
    ServeConfig config = empty_config();
    const std::vector<FlagSpec> specs = serve_flags(config);
    auto parsed = parse_flags(args, specs, "serve");
    if (!parsed) return make_error(parsed.error());
    if (parsed->help) {
        config.help = true;
        return config;
    }
    if (!parsed->positionals.empty()) {
        return make_error(fmt::format("serve: unexpected argument \"{}\" (targets go after --readiness, --liveness or "
                                      "--startup; see healthgate serve --help)",
                                      parsed->positionals.front()));
    }
    if (parsed->has_command) return make_error("serve: unexpected \"--\" (serve runs no command)");
    std::vector<FlagValue> env = env_flags(specs);

    std::optional<std::string> config_file = flag_value("config", env, parsed->flags);
    std::optional<std::string> config_yaml = flag_value("config-yaml", env, parsed->flags);
    if (config_file && config_yaml) return make_error("serve: give --config FILE or --config-yaml TEXT, not both");
    if (config_file) {
        auto root = load_yaml_file(*config_file);
        if (!root) return make_error("serve: " + root.error());
        if (auto problem = apply_yaml(*config_file, *root, config)) return make_error("serve: " + *problem);
    }
    if (config_yaml) {  // the file's content in a flag or env var: a manifest without a ConfigMap
        auto root = parse_yaml_text("--config-yaml", *config_yaml);
        if (!root) return make_error("serve: " + root.error());
        if (auto problem = apply_yaml("--config-yaml", *root, config)) return make_error("serve: " + *problem);
    }
    for (const auto* source : {&env, &parsed->flags}) {
        for (const FlagValue& flag : *source) {
            if (auto what = target_flag(flag.spec->name)) {
                if (auto problem = add_flag_targets(flag, *what, config.groups[0])) return make_error("serve: " + *problem);
            } else if (auto problem = apply_flags({flag}, "serve")) {
                return make_error(*problem);
            }
        }
    }
    if (auto problem = finalize(config, identity)) return make_error("serve: " + *problem);
    return config;
}

}  // namespace healthgate::probe
