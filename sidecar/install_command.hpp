#pragma once
#include <string>
#include <vector>

namespace healthgate::sidecar {
// `healthgate install DIR`: copy this binary into DIR atomically (mode 0755).
int install_main(const std::vector<std::string>& args);
}  // namespace healthgate::sidecar
