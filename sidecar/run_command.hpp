#pragma once
#include <string>
#include <vector>

namespace healthgate::sidecar {
// `healthgate run [OPTIONS] -- COMMAND ARGS...`: PID 1 wrapper that records why the app died.
int run_main(const std::vector<std::string>& args);
}  // namespace healthgate::sidecar
