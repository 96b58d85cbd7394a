// healthgate: one static binary, three jobs. main() only dispatches.
#include <cstdio>
#include <exception>
#include <string>
#include <string_view>
#include <vector>

#include "cli/startup.hpp"
#include "common/elf_section.hpp"
#include "common/error_line.hpp"
#include "common/exit_codes.hpp"
#include "gate/wait_command.hpp"
#include "inject/inject_command.hpp"
#include "probe/probe_command.hpp"
#include "probe/serve_command.hpp"
#include "sidecar/install_command.hpp"
#include "sidecar/run_command.hpp"

namespace {

constexpr const char* k_usage = R"(healthgate — start safely, probe honestly, say why it died.

Usage: healthgate COMMAND [OPTIONS]

Commands:
  wait TARGET... [-- CMD ARGS...]  gate: wait until dependencies are ready (init container)
  probe TARGET...                  probe: one check of each target, for exec probes
  serve --config FILE              probe: /startupz /livez /readyz /metrics endpoint
  config check FILE                validate a serve config file
  run [OPTIONS] -- CMD ARGS...     sidecar: run CMD as PID 1, record why it died
  install DIR                      copy this binary into DIR (an emptyDir)
  inject [FILE|-]                  wire healthgate into Kubernetes manifests (uninject: undo)

Targets: tcp://host:port  http(s)://host[:port]/path  dns://name ... (all kinds: healthgate wait --help)
Options after '#': http://api:8080/healthz#status=200-299&body=ok&timeout=2s

Global: healthgate --help | --version;  healthgate COMMAND --help
  healthgate version --sbom        what is linked in: CycloneDX JSON (Debian packages, exact versions)

Exit codes: 0 ready/healthy; 1 not ready by the deadline / unhealthy; 2 usage or
config error; 126/127 command not executable/not found; 128+N stopped by signal N
(run: the app's own exit code, or 128+N when it died of signal N).
)";

// The SBOM the build embedded in this binary (cmake/Sbom.cmake).
int print_sbom() {
    auto sbom = healthgate::read_elf_section("/proc/self/exe", ".healthgate.sbom");
    if (!sbom) {
        std::fprintf(stderr, "healthgate: no SBOM in this binary (only the static build embeds one): %s\n",
                     sbom.error().c_str());
        return healthgate::k_exit_usage;
    }
    std::fwrite(sbom->data(), 1, sbom->size(), stdout);
    return healthgate::k_exit_ok;
}

}  // namespace

int main(int argc, char** argv) {
    healthgate::cli::g_main_started = true;
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty() || args[0] == "--help" || args[0] == "-h" || args[0] == "help") {
        std::fputs(k_usage, args.empty() ? stderr : stdout);
        return args.empty() ? healthgate::k_exit_usage : healthgate::k_exit_ok;
    }
    if (args[0] == "--version" || args[0] == "version") {
        if (args.size() == 2 && args[0] == "version" && args[1] == "--sbom") return print_sbom();
        if (args.size() > 1) {
            std::fputs("healthgate: usage: healthgate version [--sbom]\n", stderr);
            return healthgate::k_exit_usage;
        }
        std::printf("healthgate %s\n", HEALTHGATE_VERSION);
        return healthgate::k_exit_ok;
    }
    std::string command = args[0];
    args.erase(args.begin());
    try {
        if (command == "wait") return healthgate::gate::wait_main(args);
        if (command == "probe") return healthgate::probe::probe_main(args);
        if (command == "serve") return healthgate::probe::serve_main(args);
        if (command == "config") return healthgate::probe::config_main(args);
        if (command == "run") return healthgate::sidecar::run_main(args);
        if (command == "install") return healthgate::sidecar::install_main(args);
        if (command == "inject" || command == "uninject") return healthgate::inject::inject_main(args, command == "uninject");
    } catch (const std::exception& e) {
        // The one catch at the edge: anything that escapes is a bug, reported plainly.
        return healthgate::usage_error(command + ": internal error: " + e.what(), args);
    }
    std::string line = healthgate::error_line("unknown command \"" + command + "\" (see healthgate --help)",
                                              healthgate::command_secrets(args));
    std::fprintf(stderr, "healthgate: %s\n", line.c_str());
    return healthgate::k_exit_usage;
}
