#pragma once
// Configuration of `healthgate serve`: a YAML file (--config) plus flags and
// HEALTHGATE_* environment variables for simple cases (file < env < flags;
// checks from all sources are combined). Validation happens here, at load,
// so a bad config exits 2 with file:line before anything is served.
//
// The rule this file exists for: liveness covers only the local process. A
// liveness check on a remote dependency restarts the container (and every
// replica with it) when that dependency blips, so it is rejected with the
// reason unless the check opts in with allow_remote_liveness: true.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>
#include <yaml-cpp/yaml.h>

#include "common/duration.hpp"
#include "common/expected.hpp"
#include "common/log.hpp"
#include "common/target.hpp"
#include "probe/check_state.hpp"

namespace healthgate::probe {

enum class ProbeKind { startup = 0, liveness = 1, readiness = 2 };
inline constexpr ProbeKind k_probe_kinds[] = {ProbeKind::startup, ProbeKind::liveness, ProbeKind::readiness};
std::string_view probe_kind_name(ProbeKind kind);      // "startup"
std::string_view probe_endpoint_name(ProbeKind kind);  // "startupz"

struct CheckConfig {
    std::string name;
    Target target;
    CheckPolicy policy;           // resolved at load: check keys > target timeout= > defaults
    // What the check itself set, before defaults are applied.
    std::optional<Duration> interval, timeout;
    std::optional<int> failure_threshold, success_threshold;
    bool probes[3] = {false, false, false};
    bool allow_remote_liveness = false;
    std::string origin;           // "file:line" or "--readiness", for messages

    bool in(ProbeKind kind) const { return probes[static_cast<int>(kind)]; }
};

// One set of checks with its own endpoints: the top level (name "", paths
// /readyz ...) or a container of the pod (paths /<name>/readyz ...).
struct CheckGroup {
    std::string name;
    std::vector<CheckConfig> checks;
};

struct ListenAddress {
    std::string host;             // empty: every address (IPv6 and IPv4 when available)
    std::uint16_t port = 8081;
};
Expected<ListenAddress> parse_listen_address(std::string_view text);

struct ServeConfig {
    ListenAddress listen;
    Duration drain{10'000};
    Duration request_timeout{10'000};  // reading one request (idle keep-alive included), writing one answer
    CheckPolicy defaults;            // interval 10s, timeout 1s, failure 3, success 1
    std::vector<CheckGroup> groups;  // groups[0] is the top level
    log::Format log_format = log::Format::text;
    log::Level log_level = log::Level::info;
    std::string resolv_conf = "/etc/resolv.conf";
    std::string histories;           // --histories: DIR of `run --history` files for /metrics (history_metrics.hpp)
    std::string socket;              // --socket: a unix socket for `probe --from` (status_socket.hpp); empty: none
    bool help = false;

    std::size_t check_count() const;
};

// What "local" means for liveness: the pod's own addresses and names.
struct LocalIdentity {
    std::vector<std::string> addresses;  // POD_IP, POD_IPS, the host's interfaces
    std::vector<std::string> hostnames;  // HOSTNAME, gethostname()
    static LocalIdentity from_environment();
};

// Loopback, localhost, unix sockets, files and the pod's own addresses and
// names are local; everything else (dns:// included) is a remote dependency.
bool is_local_target(const Target& target, const LocalIdentity& identity);

// Builds the config from the command line (args after "serve") and the
// environment. Errors are one line: "serve: file:line: ..." or "serve: --flag: ...".
Expected<ServeConfig> load_serve_config(const std::vector<std::string>& args, const LocalIdentity& identity);

// The config file alone (for `healthgate config check FILE`).
Expected<ServeConfig> load_serve_config_file(const std::string& path, const LocalIdentity& identity);

// A parsed YAML document, applied and validated (tests parse strings; `file`
// names them in errors).
Expected<ServeConfig> load_serve_config_yaml(const std::string& file, const YAML::Node& root,
                                             const LocalIdentity& identity);

extern const char* const k_serve_help;
extern const char* const k_config_help;

}  // namespace healthgate::probe
