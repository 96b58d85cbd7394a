#pragma once
#include <string>
#include <vector>

namespace healthgate::gate {
// `healthgate wait TARGET... [-- COMMAND ARGS...]`; returns the exit code (or execs COMMAND).
int wait_main(const std::vector<std::string>& args);
}  // namespace healthgate::gate
