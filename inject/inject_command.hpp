#pragma once
#include <string>
#include <vector>

namespace healthgate::inject {
// `healthgate inject [FILE|-]` (and `healthgate uninject`, the same as inject --remove).
int inject_main(const std::vector<std::string>& args, bool uninject);
}  // namespace healthgate::inject
