// `healthgate inject`: reads manifests, writes them injected to stdout, or
// nothing at all when any document is wrong (exit 2).
#include "inject/inject_command.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fmt/format.h>

#include "common/exit_codes.hpp"
#include "common/flags.hpp"
#include "common/target.hpp"
#include "common/text.hpp"
#include "inject/inject.hpp"

namespace healthgate::inject {
namespace {

constexpr const char* k_inject_help = R"(Usage: healthgate inject [FLAGS] [FILE|-]
       healthgate uninject [FILE|-]          (the same as inject --remove)

Wires healthgate into Kubernetes manifests and writes them to stdout:
  kubectl get deploy orders -o yaml | healthgate inject --image IMAGE --wait tcp://postgres:5432 - | kubectl apply -f -

Reads FILE (or stdin for '-' or none): any number of YAML documents and List
objects. In every Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet,
ReplicationController, Job and CronJob pod template, for each chosen container:
  - an init container healthgate-install copies the binary into the emptyDir
    "healthgate" mounted at /hg (with --image-volume: the image itself is
    mounted at /hg-bin, no copy; Kubernetes >= 1.36);
  - the command becomes [/hg/healthgate, run, --history=/hg/history-NAME, --,
    ORIGINAL COMMAND...], args unchanged; terminationMessagePolicy:
    FallbackToLogsOnError;
  - --wait: an init container healthgate-wait runs `healthgate wait TARGET...`
    before the pod's own init containers;
  - --serve: serve runs as a native sidecar (init container healthgate-serve,
    restartPolicy: Always, Kubernetes >= 1.29) with the containers' httpGet,
    tcpSocket and grpc probes as its checks (grpc: Health/Check of the probe's
    service, plaintext as the kubelet does), in a generated ConfigMap
    NAME-healthgate, and its unix socket /hg/serve.sock for `healthgate probe
    --from`; --rewrite-probes also points those probes at serve's
    /CONTAINER/startupz, /livez, /readyz, keeping their period, timeout and
    thresholds (exec probes stay as they are).
What it changed is kept in the pod template's annotation healthgate.dev/injected:
injecting again replaces it (the same flags give the same output) and --remove
restores the original. A document inject does not change is written back as
it came, comments included; in one it changes, every field it does not own is
written back as read, but comments are dropped (the YAML parser drops them)
and anchors, aliases and merge keys (<<) are written out in full. Keep the
commented source in git and pipe the output straight to kubectl.

A container without command: runs its image's ENTRYPOINT, which a manifest
does not show: inject refuses to guess and names each such container. Give
--entrypoint 'CMD ARGS' (the image's ENTRYPOINT; add its CMD too when the
container has no args:), or leave the container out with --container.

Flags (environment variable in brackets):
  --image IMAGE            the healthgate image (required) [HEALTHGATE_IMAGE]
  --container NAME         wrap only this container (repeatable; default: every one)
  --wait TARGET            gate the pod on TARGET (repeatable; see healthgate wait --help)
  --entrypoint 'CMD ARGS'  the ENTRYPOINT of containers without command:
                           (NAME='CMD ARGS' for one container; repeatable)
  --image-volume           mount the image as a volume instead of copying the binary
  --serve                  add serve as a native sidecar
  --rewrite-probes         move the probes behind serve (implies --serve)
  --exec-probes            the moved probes exec `healthgate probe --from` serve's
                           unix socket (/hg/serve.sock) instead of an httpGet, so
                           kubectl describe shows serve's [-] reason (implies --rewrite-probes)
  --serve-port N           serve's port (default 8081)
  --serve-config configmap|inline
                           serve's config in a generated ConfigMap NAME-healthgate
                           (default), or inline in the sidecar's env
                           (HEALTHGATE_CONFIG_YAML, no ConfigMap to apply)
  --remove                 undo a previous inject
  --dry-run                print what would change, one line per pod template, not the YAML

Exit codes:
  0  written (or, with --dry-run, summarized)
  2  usage error, or a manifest it cannot inject: one line per problem,
     "FILE: document N: PATH: problem", and nothing on stdout
)";

Expected<std::string> read_input(const std::string& path) {
    std::FILE* file = path == "-" ? stdin : std::fopen(path.c_str(), "rb");
    if (!file) return make_error(fmt::format("open {}: {}", path, std::strerror(errno)));
    std::string text;
    char buffer[65536];
    std::size_t n;
    while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) {
        text.append(buffer, n);
        if (text.size() > 64 * 1024 * 1024) {
            if (file != stdin) std::fclose(file);
            return make_error(fmt::format("{}: more than 64 MiB of manifests", path));
        }
    }
    bool failed = std::ferror(file);
    if (file != stdin) std::fclose(file);
    if (failed) return make_error(fmt::format("read {}: {}", path, std::strerror(errno)));
    return text;
}

}  // namespace

int inject_main(const std::vector<std::string>& args, bool uninject) {
    InjectOptions options;
    options.remove = uninject;
    bool dry_run = false;
    auto set = [](bool& out) {
        return [&out](std::string_view) -> std::optional<std::string> {
            out = true;
            return std::nullopt;
        };
    };
    std::vector<FlagSpec> specs = {
        {"image", true, "HEALTHGATE_IMAGE",
         [&](std::string_view value) -> std::optional<std::string> {
             if (value.empty()) return std::string("empty image");
             options.image = std::string(value);
             return std::nullopt;
         }},
        {"container", true, "",
         [&](std::string_view value) -> std::optional<std::string> {
             if (value.empty()) return std::string("empty container name");
             options.containers.emplace_back(value);
             return std::nullopt;
         }},
        {"wait", true, "",
         [&](std::string_view value) -> std::optional<std::string> {
             bool any = false;
             for (std::string_view item : split(value, ' ')) {
                 if (item.empty()) continue;
                 if (auto target = parse_target(item); !target) return target.error();
                 options.wait_targets.emplace_back(item);
                 any = true;
             }
             if (!any) return std::string("no target given");
             return std::nullopt;
         }},
        {"entrypoint", true, "",
         [&](std::string_view value) -> std::optional<std::string> {
             EntrypointOverride e;
             std::string text(value);
             // NAME='CMD ARGS': a DNS label before '=' names one container.
             if (auto eq = text.find('='); eq != std::string::npos && eq > 0 &&
                 text.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-") == eq) {
                 e.container = text.substr(0, eq);
                 text = text.substr(eq + 1);
             }
             auto words = split_words(text);
             if (!words) return words.error();
             e.words = std::move(*words);
             options.entrypoints.push_back(std::move(e));
             return std::nullopt;
         }},
        {"image-volume", false, "", set(options.image_volume)},
        {"serve", false, "", set(options.serve)},
        {"rewrite-probes", false, "", set(options.rewrite_probes)},
        {"exec-probes", false, "", set(options.exec_probes)},
        {"serve-config", true, "",
         [&](std::string_view value) -> std::optional<std::string> {
             if (value != "configmap" && value != "inline") return std::string("expected configmap or inline");
             options.serve_config_inline = value == "inline";
             return std::nullopt;
         }},
        {"serve-port", true, "",
         [&](std::string_view value) -> std::optional<std::string> {
             int port = 0;
             for (char c : value) {
                 if (c < '0' || c > '9' || port > 65535) return std::string("expected a port from 1 to 65535");
                 port = port * 10 + (c - '0');
             }
             if (port < 1 || port > 65535) return std::string("expected a port from 1 to 65535");
             options.serve_port = static_cast<std::uint16_t>(port);
             return std::nullopt;
         }},
        {"remove", false, "", set(options.remove)},
        {"dry-run", false, "", set(dry_run)},
    };
    const char* command = uninject ? "uninject" : "inject";
    auto parsed = parse_flags(args, specs, command);
    if (!parsed) {
        std::fprintf(stderr, "healthgate %s\n", parsed.error().c_str());
        return k_exit_usage;
    }
    if (parsed->help) {
        std::fputs(k_inject_help, stdout);
        return k_exit_ok;
    }
    std::vector<FlagValue> values = env_flags(specs);
    values.insert(values.end(), parsed->flags.begin(), parsed->flags.end());
    if (auto problem = apply_flags(values, std::string("healthgate ") + command)) {
        std::fprintf(stderr, "%s\n", problem->c_str());
        return k_exit_usage;
    }
    if (options.exec_probes) options.rewrite_probes = true;
    if (options.rewrite_probes) options.serve = true;
    if (parsed->positionals.size() > 1 || parsed->has_command) {
        std::fprintf(stderr, "healthgate %s: one FILE (or - for stdin) at most (see healthgate inject --help)\n", command);
        return k_exit_usage;
    }
    if (!options.remove && options.image.empty()) {
        std::fprintf(stderr, "healthgate %s: --image IMAGE is required (the healthgate image the pod pulls)\n", command);
        return k_exit_usage;
    }
    std::string path = parsed->positionals.empty() ? "-" : parsed->positionals[0];
    auto text = read_input(path);
    if (!text) {
        std::fprintf(stderr, "healthgate %s: %s\n", command, text.error().c_str());
        return k_exit_usage;
    }
    auto result = inject_manifests(*text, path == "-" ? "stdin" : path, options);
    if (!result) {
        std::fprintf(stderr, "%s\n", result.error().c_str());
        return k_exit_usage;
    }
    if (dry_run) {
        for (const std::string& line : result->summary) std::printf("%s\n", line.c_str());
        if (result->summary.empty()) std::printf("nothing to change\n");
    } else {
        std::fwrite(result->yaml.data(), 1, result->yaml.size(), stdout);
    }
    return std::fflush(stdout) == 0 ? k_exit_ok : k_exit_usage;
}

}  // namespace healthgate::inject
