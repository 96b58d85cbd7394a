#pragma once
#include <string>
#include <vector>

namespace healthgate::probe {
// `healthgate serve`: the /startupz /livez /readyz /metrics endpoint.
int serve_main(const std::vector<std::string>& args);
// `healthgate config check FILE`: validate a config without serving.
int config_main(const std::vector<std::string>& args);
}  // namespace healthgate::probe
