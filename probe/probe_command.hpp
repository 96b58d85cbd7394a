#pragma once
#include <string>
#include <vector>

namespace healthgate::probe {
// `healthgate probe TARGET...`: one attempt at each target; exit 0 healthy, 1 unhealthy, 2 usage.
int probe_main(const std::vector<std::string>& args);
}  // namespace healthgate::probe
